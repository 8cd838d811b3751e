// Package earlyenv fixes the environment before Fyne's lang package reads it
// in its init: under LANG=C.UTF-8 (the default of many servers and CI
// machines) Fyne logs "Error parsing user locale C" on every run, command
// line included. Setting LANGUAGE for this process lets the locale lookup
// skip the unparsable "C" without changing what the user's shell has.
//
// It imports only syscall: by the Go spec's init order (packages sorted by
// import path, each initialised once its imports are) it then runs before
// "os" and so long before fyne.io/fyne/v2/lang. main imports it first.
package earlyenv

import "syscall"

func init() { fix() }

func fix() {
	locale := ""
	for _, name := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := syscall.Getenv(name); ok && v != "" {
			locale = v
			break
		}
	}
	if v, ok := syscall.Getenv("LANGUAGE"); ok && v != "" {
		return
	}
	if isPOSIXLocale(locale) && locale != "C" && locale != "POSIX" {
		// "C.UTF-8" and the like: exactly "C"/"POSIX" Fyne already handles.
		_ = syscall.Setenv("LANGUAGE", "en")
	}
}

// isPOSIXLocale reports C, POSIX and their codeset/modifier variants.
func isPOSIXLocale(l string) bool {
	base := l
	for i := 0; i < len(l); i++ {
		if l[i] == '.' || l[i] == '@' || l[i] == '_' {
			base = l[:i]
			break
		}
	}
	return base == "C" || base == "POSIX"
}
