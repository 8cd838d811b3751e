package app

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// firstFrameProbe wraps content with a 1×1 transparent raster. A raster's
// generator runs only when the painter draws it, so its first call marks the
// first frame: the time since process start goes to stdout and the process
// ends (JPKIPILOT_EXIT_AFTER_FIRST_FRAME=1, for scripts/bench-coldstart.sh).
//
// It exits rather than calling App.Quit: Fyne 2.7.1 can crash when the
// window is destroyed while the pointer events of its first appearance are
// still queued (glfw SetInputMode on a nil window in processMouseMoved).
func firstFrameProbe(content fyne.CanvasObject, closeStore func() error) fyne.CanvasObject {
	var once sync.Once
	probe := canvas.NewRaster(func(w, h int) image.Image {
		once.Do(func() {
			fmt.Fprintf(os.Stdout, "first frame after %.3f s\n", time.Since(processStart).Seconds())
			go fyne.Do(func() {
				_ = closeStore()
				os.Exit(0)
			})
		})
		img := image.NewNRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		img.Set(0, 0, color.Transparent)
		return img
	})
	probe.SetMinSize(fyne.NewSize(1, 1))
	probe.Resize(fyne.NewSize(1, 1))
	return container.NewStack(content, container.NewWithoutLayout(probe))
}
