package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ReaderInfo is one PC/SC reader as the readers screen shows it.
type ReaderInfo struct {
	Name        string
	CardPresent bool
	CardType    string // e.g. "JPKI card", "JPKI phone token"; empty if unknown
}

// ReaderSource lists the PC/SC readers (the device package provides it).
// Readers returns an error when PC/SC itself is unavailable (pcscd not
// running); an empty list when it runs but no reader is attached.
type ReaderSource interface {
	Readers(ctx context.Context) ([]ReaderInfo, error)
	LastTrace() []string
}

type readersScreen struct {
	src     ReaderSource
	state   *widget.Label
	list    *widget.List
	trace   *widget.Label
	readers []ReaderInfo
	content fyne.CanvasObject
}

// NewReaders shows the PC/SC readers and whether a card is present, with
// an honest message when there are none or PC/SC is not running.
func NewReaders(w fyne.Window, src ReaderSource) fyne.CanvasObject {
	return newReadersScreen(w, src).content
}

func newReadersScreen(_ fyne.Window, src ReaderSource) *readersScreen {
	s := &readersScreen{src: src, state: widget.NewLabel(""), trace: widget.NewLabel("")}
	s.state.Wrapping = fyne.TextWrapWord
	s.trace.TextStyle.Monospace = true
	s.list = widget.NewList(
		func() int { return len(s.readers) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.ComputerIcon()), widget.NewLabel("Virtual PCD 00 00"), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := s.readers[i]
			row := o.(*fyne.Container)
			row.Objects[1].(*widget.Label).SetText(r.Name)
			card := lang.L("readers.no_card")
			if r.CardPresent {
				card = lang.L("readers.card_present")
				if r.CardType != "" {
					card += " · " + r.CardType
				}
			}
			row.Objects[2].(*widget.Label).SetText(card)
		})
	refresh := widget.NewButtonWithIcon(lang.L("readers.refresh"), theme.ViewRefreshIcon(), s.refresh)
	top := container.NewVBox(
		container.NewHBox(widget.NewLabelWithStyle(lang.L("readers.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), refresh),
		s.state)
	bottom := container.NewVBox(widget.NewLabelWithStyle(lang.L("readers.trace"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewVScroll(s.trace))
	s.content = container.NewVSplit(container.NewBorder(top, nil, nil, nil, s.list), bottom)
	s.refresh()
	return s
}

func (s *readersScreen) refresh() {
	s.state.SetText(lang.L("readers.looking"))
	type result struct {
		readers []ReaderInfo
		trace   []string
	}
	Run(context.Background(), func(ctx context.Context) (result, error) {
		rs, err := s.src.Readers(ctx)
		return result{rs, s.src.LastTrace()}, err
	}, func(r result, err error) {
		s.readers = r.readers
		switch {
		case err != nil:
			s.readers = nil
			s.state.SetText(lang.L("readers.unavailable", map[string]any{"Err": err.Error()}))
		case len(r.readers) == 0:
			s.state.SetText(lang.L("readers.none"))
		default:
			s.state.SetText(lang.L("readers.count", map[string]any{"N": len(r.readers)}))
		}
		if len(r.trace) == 0 {
			s.trace.SetText(lang.L("readers.no_trace"))
		} else {
			s.trace.SetText(strings.Join(r.trace, "\n"))
		}
		s.list.Refresh()
	})
}
