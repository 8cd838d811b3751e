package screens

import "fyne.io/fyne/v2"

// columns lays its objects out in one row, each taking a fixed share of the
// width (weights), so rows stacked in a VBox line up like a table.
type columns []float32

func (c columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h, w float32
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		h = max(h, m.Height)
		w += m.Width
	}
	return fyne.NewSize(w, h)
}

func (c columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var total float32
	for i := range objs {
		total += c.weight(i)
	}
	x := float32(0)
	for i, o := range objs {
		w := size.Width * c.weight(i) / total
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w-4, size.Height))
		x += w
	}
}

func (c columns) weight(i int) float32 {
	if i < len(c) {
		return c[i]
	}
	return 1
}
