package formgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite assets/forms/*.xlsx from the templates")

// The committed templates are what the generator writes today.
func TestTemplatesUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "assets", "forms")
	for _, tpl := range Templates() {
		b, err := tpl.Build()
		if err != nil {
			t.Fatalf("%s: %v", tpl.File, err)
		}
		path := filepath.Join(dir, tpl.File)
		if *update {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(old, b) {
			t.Errorf("%s differs from its generator: run go test ./survey/internal/formgen -run TestTemplates -update", path)
		}
	}
}
