package screens

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// trialReasonFormats reads the trial package's source for the reasons it
// gives people: the format of every FieldErrors.add and import add call,
// every Reason: field of a FieldError or Problem (a literal or the format
// of its fmt.Sprintf), and the errors of the IMEI, ICCID and kana checks
// (which reach people as reasons). "%s" and "%v" pass another reason on.
func trialReasonFormats(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../trial/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("trial sources: %v", err)
	}
	out := map[string]string{} // format → where
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		keep := func(lit *ast.BasicLit) {
			s, err := strconv.Unquote(lit.Value)
			if err != nil || s == "%s" || s == "%v" {
				return
			}
			out[s] = fset.Position(lit.Pos()).String()
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncDecl:
				switch x.Name.Name {
				case "CheckIMEI", "CheckICCID", "NormalizeKana":
					ast.Inspect(x.Body, func(n ast.Node) bool {
						if c, ok := n.(*ast.CallExpr); ok && callName(c) == "Errorf" {
							if lit, ok := c.Args[0].(*ast.BasicLit); ok {
								keep(lit)
							}
						}
						return true
					})
				}
			case *ast.CallExpr:
				if callName(x) != "add" {
					return true
				}
				// add(field, format, ...) or add(row, field, format, ...):
				// the format is the second string literal, or the only one.
				var lits []*ast.BasicLit
				for _, a := range x.Args[:min(3, len(x.Args))] {
					if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						lits = append(lits, lit)
					}
				}
				switch len(lits) {
				case 1:
					keep(lits[0])
				case 2, 3:
					keep(lits[1])
				}
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); !ok || k.Name != "Reason" {
					return true
				}
				switch v := x.Value.(type) {
				case *ast.BasicLit:
					keep(v)
				case *ast.SelectorExpr: // another error's reason, passed on
				case *ast.CallExpr:
					if lit, ok := v.Args[0].(*ast.BasicLit); ok && callName(v) == "Sprintf" {
						keep(lit)
					} else if id, ok := v.Args[0].(*ast.Ident); ok && id.Name == "format" && callName(v) == "Sprintf" {
						// an add helper: its callers' formats are read above
					} else {
						t.Errorf("%s: a Reason that is not a literal or fmt.Sprintf cannot be checked for a translation", fset.Position(v.Pos()))
					}
				default:
					t.Errorf("%s: a Reason that is not a literal or fmt.Sprintf cannot be checked for a translation", fset.Position(v.Pos()))
				}
			case *ast.AssignStmt: // p.Reason = "..."
				for i, l := range x.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "Reason" {
						if lit, ok := x.Rhs[i].(*ast.BasicLit); ok {
							keep(lit)
						}
					}
				}
			}
			return true
		})
	}
	if len(out) < 40 {
		t.Fatalf("found only %d reasons in the trial package: the reader is broken", len(out))
	}
	return out
}

func callName(c *ast.CallExpr) string {
	switch fn := c.Fun.(type) {
	case *ast.SelectorExpr:
		return fn.Sel.Name
	case *ast.Ident:
		return fn.Name
	}
	return ""
}

// Every reason the trial package gives reaches people in their language:
// each is in reasonFormats, and a reason written with it (sample values for
// its verbs) comes out in Japanese with the values in it.
func TestEveryTrialReasonIsTranslated(t *testing.T) {
	if err := LoadTranslations("ja"); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range reasonFormats {
		known[f.format] = true
	}
	for format, where := range trialReasonFormats(t) {
		if !known[format] {
			t.Errorf("%s: reason %q is not in reasonFormats (screens/labels.go) and shows in English", where, format)
		}
	}
	for _, f := range reasonFormats {
		var args []any
		var samples []string
		for i := 0; i+1 < len(f.format); i++ {
			if f.format[i] != '%' {
				continue
			}
			i++
			switch f.format[i] {
			case 'd':
				args, samples = append(args, 4711+len(args)), append(samples, fmt.Sprint(4711+len(args)))
			case 'q':
				v := fmt.Sprintf("x%d", len(args))
				args, samples = append(args, v), append(samples, strconv.Quote(v))
			case 's', 'v':
				v := fmt.Sprintf("M-09%d", len(args))
				args, samples = append(args, v), append(samples, v)
			}
		}
		reason := fmt.Sprintf(f.format, args...)
		got := reasonText(reason)
		if got == reason || !hasJapanese(got) {
			t.Errorf("%q: reasonText gives %q, want Japanese", reason, got)
			continue
		}
		for _, s := range samples {
			if !strings.Contains(got, s) {
				t.Errorf("%q: %q lacks the value %s", reason, got, s)
			}
		}
	}
	// The most specific format wins, and an unknown reason is left as it is.
	if got := reasonText("row 12 is in another trial"); !strings.Contains(got, "12 行目") {
		t.Errorf("row reason read as another: %q", got)
	}
	if got := reasonText("something new"); got != "something new" {
		t.Errorf("unknown reason became %q", got)
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}
