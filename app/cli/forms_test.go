package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// run runs the command line and returns exit code, stdout and stderr.
func runSurveyCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// editedTemplate copies a bundled template with cells changed.
func editedTemplate(t *testing.T, name string, cells map[string]string) string {
	t.Helper()
	x, err := excelize.OpenFile(filepath.Join("..", "..", "assets", "forms", name))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for ref, v := range cells {
		sheet, cell, _ := strings.Cut(ref, "!")
		if err := x.SetCellStr(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFormsCheck(t *testing.T) {
	good := filepath.Join("..", "..", "assets", "forms", "ticket_entry.xlsx")
	code, out, errs := runSurveyCLI(t, "forms", "check", good)
	if code != 0 || !strings.Contains(out, "OK — form ticket_entry version") {
		t.Fatalf("check good: %d %q %q", code, out, errs)
	}
	// Row 5 is `willingness`, row 6 `reasons`; H is relevant, A is type.
	bad := editedTemplate(t, "ticket_entry.xlsx", map[string]string{
		"survey!H5": "${nosuch} = 1",
		"survey!A6": "select_one nolist",
	})
	code, out, errs = runSurveyCLI(t, "forms", "check", bad)
	if code != 1 {
		t.Fatalf("check bad: exit %d, want 1", code)
	}
	for _, want := range []string{
		`sheet survey, row 5, column relevant: "${nosuch} = 1" refers to ${nosuch}`,
		`sheet survey, row 6, column type: choice list "nolist" is not on the choices sheet`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "sheet ") {
			t.Errorf("error line %q does not start with the sheet", line)
		}
	}
	if !strings.Contains(errs, "problem(s); the form is refused") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("stderr = %q, want one line", errs)
	}
	if code, _, _ := runSurveyCLI(t, "forms", "check"); code != 2 {
		t.Errorf("check without a file: exit %d, want 2", code)
	}
	if code, _, _ := runSurveyCLI(t, "forms", "frobnicate"); code != 2 {
		t.Errorf("unknown sub-command: exit %d, want 2", code)
	}
	if code, _, _ := runSurveyCLI(t, "forms", "check", filepath.Join(t.TempDir(), "missing.xlsx")); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

func TestFormsAddVersions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "jp.db")
	good := filepath.Join("..", "..", "assets", "forms", "overall.xlsx")
	code, out, errs := runSurveyCLI(t, "--db", db, "forms", "add", good)
	if code != 0 || !strings.Contains(out, "registered form overall version") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	code, out, _ = runSurveyCLI(t, "--db", db, "forms", "add", good)
	if code != 0 || !strings.Contains(out, "already registered with the same questions") {
		t.Fatalf("add again: %d %q", code, out)
	}
	// Same version, a question reworded: refused.
	changed := editedTemplate(t, "overall.xlsx", map[string]string{"survey!C3": "便利だと思いますか。"})
	code, _, errs = runSurveyCLI(t, "--db", db, "forms", "add", changed)
	if code != 1 || !strings.Contains(errs, "already registered with different questions") {
		t.Fatalf("conflicting add: %d %q", code, errs)
	}
	// With a new version it is accepted; both versions are listed.
	bumped := editedTemplate(t, "overall.xlsx", map[string]string{"survey!C3": "便利だと思いますか。", "settings!B2": "2026.2"})
	if code, out, errs := runSurveyCLI(t, "--db", db, "forms", "add", bumped); code != 0 {
		t.Fatalf("add new version: %d %q %q", code, out, errs)
	}
	code, out, _ = runSurveyCLI(t, "--db", db, "forms", "list")
	if code != 0 || strings.Count(out, "overall\t") != 2 || !strings.Contains(out, "\t2026.2\t") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	// An invalid form is not registered.
	bad := editedTemplate(t, "overall.xlsx", map[string]string{"survey!A3": "rating", "settings!B2": "2026.3"})
	code, _, errs = runSurveyCLI(t, "--db", db, "forms", "add", bad)
	if code != 1 || !strings.Contains(errs, `sheet survey, row 3, column type: unknown type "rating"`) {
		t.Fatalf("add invalid: %d %q", code, errs)
	}
	if _, out, _ := runSurveyCLI(t, "--db", db, "forms", "list"); strings.Contains(out, "2026.3") {
		t.Fatal("invalid form was registered")
	}
	if code, out, _ := runSurveyCLI(t, "--db", db, "forms", "add", "--bundled"); code != 0 || strings.Count(out, "\n") != 6 {
		t.Fatalf("add --bundled: %d %q", code, out)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
}
