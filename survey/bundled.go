package survey

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"jpkipilot/assets/forms"
)

// bundledOrder is the order the trial runs through the bundled forms.
var bundledOrder = []string{"ticket_application", "ticket_purchase", "ticket_entry", "bank_login", "lent_phone", "overall"}

// BundledSources returns the bundled XLSForm workbooks by file name.
func BundledSources() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(forms.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".xlsx") {
			return err
		}
		b, err := fs.ReadFile(forms.FS, p)
		out[p] = b
		return err
	})
	return out, err
}

// Bundled parses the questionnaire templates shipped in assets/forms.
func Bundled() ([]*Form, error) {
	srcs, err := BundledSources()
	if err != nil {
		return nil, err
	}
	var out []*Form
	for name, b := range srcs {
		f, err := ParseXLSForm(b)
		if err != nil {
			return nil, fmt.Errorf("bundled form %s: %w", name, err)
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := bundledRank(out[i].ID), bundledRank(out[j].ID)
		if ri != rj {
			return ri < rj
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// bundledRank orders form ids: the bundled ones in the trial's order, then
// others.
func bundledRank(id string) int {
	for i, x := range bundledOrder {
		if x == id {
			return i
		}
	}
	return len(bundledOrder)
}
