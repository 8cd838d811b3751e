package survey

import (
	"strings"
	"testing"
)

type mapEnv struct {
	m    map[string]string
	self string
}

func (e mapEnv) Lookup(n string) string { return e.m[n] }
func (e mapEnv) Self() string           { return e.self }

func TestExprEval(t *testing.T) {
	env := mapEnv{m: map[string]string{
		"conv":    "2",
		"will":    "5",
		"reasons": "where_to_hold card_loss",
		"name":    "佐藤",
		"empty":   "",
		"dec":     "2.50",
	}, self: "7"}
	cases := []struct {
		src  string
		want bool
	}{
		{"${conv} <= 3", true},
		{"${conv} < 2", false},
		{"${conv} = 2", true},
		{"${conv} = '2'", true},
		{"${conv} != 2", false},
		{"${will} >= 5 and ${conv} > 1", true},
		{"${will} >= 5 and ${conv} > 2", false},
		{"${will} < 3 or ${conv} < 3", true},
		{"not(${conv} = 2)", false},
		{"not(${conv} = 2) or ${will} = 5", true},
		{"selected(${reasons}, 'card_loss')", true},
		{"selected(${reasons}, 'read_done')", false},
		{"selected(${reasons}, \"where_to_hold\")", true},
		{"count-selected(${reasons}) = 2", true},
		{"count-selected(${empty}) = 0", true},
		{"string-length(${name}) = 2", true}, // characters, not bytes
		{"string-length(${empty}) = 0", true},
		{". >= 0 and . <= 14", true},
		{". > 14", false},
		{"${empty} = ''", true},
		{"${empty} != ''", false},
		{"${empty} < 3", false}, // an unanswered number is NaN: never less
		{"${empty} = 0", false},
		{"${dec} = 2.5", true},    // numeric when one side is a number
		{"${dec} = '2.5'", false}, // string equality between strings
		{"(${conv} = 1 or ${conv} = 2) and ${will} = 5", true},
		{"${conv} = 1 or ${conv} = 2 and ${will} = 4", false}, // and binds tighter
		{"${name} = '佐藤'", true},
		{".5 < 1", true},
		{"'b' > 'a'", false}, // ordering is numeric; strings are NaN
	}
	for _, c := range cases {
		e, err := ParseExpr(c.src)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", c.src, err)
			continue
		}
		if got := Truthy(e, env); got != c.want {
			t.Errorf("%q = %v, want %v (parsed as %s)", c.src, got, c.want, e)
		}
	}
}

func TestExprParseErrors(t *testing.T) {
	cases := []struct{ src, wantMsg string }{
		{"", "empty expression"},
		{"${a} =", "ends too early"},
		{"${a} = = 1", "unexpected"},
		{"${a} < ${b} < 3", "cannot be chained"},
		{"${a", "unterminated ${field}"},
		{"$a", "'$' must start"},
		{"${1a} = 1", "bad field name"},
		{"'abc", "unterminated string"},
		{"foo(${a})", "unknown function"},
		{"selected(${a})", "takes 2 argument(s), not 1"},
		{"not(${a}, ${b})", "takes 1 argument(s), not 2"},
		{"(${a} = 1", "expected ')'"},
		{"${a} = 1)", "unexpected \")\""},
		{"${a} ! 1", "must be followed by '='"},
		{"and ${a}", "needs an expression before it"},
		{"true()", "as a comparison"},
		{"${a} = 1 ; ", "unexpected character"},
		{strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), "nested too deeply"},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.src)
		if err == nil {
			t.Errorf("ParseExpr(%q) succeeded", c.src)
			continue
		}
		if !strings.Contains(err.Error(), c.wantMsg) {
			t.Errorf("ParseExpr(%q) = %v, want %q", c.src, err, c.wantMsg)
		}
	}
}

func TestExprRefs(t *testing.T) {
	e, err := ParseExpr("selected(${r}, 'x') and ${a} > 1 or ${r} = ${b}")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Refs(e), ","); got != "r,a,b" {
		t.Fatalf("Refs = %s", got)
	}
}

// A parsed expression prints to source that parses to the same tree, and
// evaluating anything the parser accepts never panics.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"${conv} <= 3 or ${will} <= 3", "selected(${reasons}, 'other')", ". >= 0 and . <= 14",
		"not(selected(., 'none')) or count-selected(.) = 1", "string-length(.) <= 400",
		"(${a} = 'x' or ${b} != \"y\") and not(${c} > .5)", "${a} = ''", "((1))", "${a}}", "${", "'",
	} {
		f.Add(s)
	}
	env := mapEnv{m: map[string]string{"a": "1", "reasons": "x y"}, self: "3"}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if e != nil {
				t.Fatalf("ParseExpr(%q) returned a tree and an error", src)
			}
			return
		}
		printed := e.String()
		e2, err := ParseExpr(printed)
		if err != nil {
			t.Fatalf("ParseExpr(%q) ok but its print %q fails: %v", src, printed, err)
		}
		if e2.String() != printed {
			t.Fatalf("print of %q not stable: %q then %q", src, printed, e2.String())
		}
		_ = Truthy(e, env)
	})
}
