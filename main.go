// Command jpkipilot runs a pilot trial of JPKI public personal
// authentication on smartphones: the GUI by default, subcommands for
// headless work (see `jpkipilot help`).
package main

import (
	"os"

	_ "jpkipilot/app/earlyenv" // before Fyne reads the locale

	"jpkipilot/app"
)

func main() { os.Exit(app.Main(os.Args)) }
