package trial_test

import (
	"errors"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"jpkipilot/trial"
)

// emptyImports stands an empty package in for every import: the checks
// below need only the trial package's own types, constants and functions,
// which resolve without them (uses of the imports fail and are ignored).
type emptyImports struct{}

var versionSuffix = regexp.MustCompile(`^v[0-9]+$`)

func (emptyImports) Import(p string) (*types.Package, error) {
	name := path.Base(p)
	if versionSuffix.MatchString(name) {
		name = path.Base(path.Dir(p))
	}
	pkg := types.NewPackage(p, name)
	pkg.MarkComplete()
	return pkg, nil
}

// trialSource type-checks the trial package's own sources (not its tests).
func trialSource(t *testing.T) (*token.FileSet, []*ast.File, *types.Package, *types.Info) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil || len(names) == 0 {
		t.Fatalf("trial sources: %v", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: emptyImports{}, Error: func(error) {}}
	pkg, _ := conf.Check("jpkipilot/trial", fset, files, info)
	return fset, files, pkg, info
}

// verbs counts the values a fmt format writes.
func verbs(format string) int {
	n := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.", format[j]) >= 0 {
			j++
		}
		if j < len(format) && format[j] != '%' {
			n++
		}
		i = j
	}
	return n
}

// Every reason the package gives carries a code the screens can translate:
// each code in the source is a Reason* constant written by name (a string
// would compile, ReasonCode being a string type, and escape the list), no
// code is made by conversion, the constants are exactly ReasonCodes, each
// is given somewhere, and each site's English format names as many values
// as ReasonCodes says a translation shows.
func TestEveryReasonSiteGivesACodeConstant(t *testing.T) {
	fset, files, pkg, info := trialSource(t)
	codeObj := pkg.Scope().Lookup("ReasonCode")
	if codeObj == nil {
		t.Fatal("no type ReasonCode")
	}
	codeType := codeObj.Type()
	isCode := func(typ types.Type) bool { return typ != nil && types.Identical(typ, codeType) }

	consts := map[types.Object]trial.ReasonCode{}
	byValue := map[trial.ReasonCode]string{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !isCode(c.Type()) {
			continue
		}
		v := trial.ReasonCode(constant.StringVal(c.Val()))
		if prev, dup := byValue[v]; dup {
			t.Errorf("%s and %s are both %q", prev, name, v)
		}
		consts[c], byValue[v] = v, name
		if _, ok := trial.ReasonCodes[v]; !ok {
			t.Errorf("%s (%q) is not in ReasonCodes: the screens do not know to translate it", name, v)
		}
	}
	for code := range trial.ReasonCodes {
		if _, ok := byValue[code]; !ok {
			t.Errorf("ReasonCodes holds %q, which is no Reason constant", code)
		}
	}

	given := map[trial.ReasonCode]int{}
	where := func(n ast.Node) string { return fset.Position(n.Pos()).String() }
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if d, ok := n.(*ast.GenDecl); ok && d.Tok == token.CONST {
				return false // the declarations themselves
			}
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			tv := info.Types[e]
			if tv.IsType() {
				return true
			}
			if tv.Value != nil && isCode(tv.Type) {
				id, ok := e.(*ast.Ident)
				if _, named := consts[info.Uses[id]]; !ok || !named {
					t.Errorf("%s: reason code %s is not a Reason constant", where(e), tv.Value)
				}
				return false
			}
			call, ok := e.(*ast.CallExpr)
			if !ok {
				return true
			}
			fun := info.Types[call.Fun]
			if fun.IsType() && isCode(fun.Type) {
				t.Errorf("%s: a ReasonCode made by conversion escapes ReasonCodes", where(call))
				return true
			}
			sig, ok := fun.Type.(*types.Signature)
			if !ok {
				return true
			}
			for i := 0; i < sig.Params().Len() && i < len(call.Args); i++ {
				id, ok := call.Args[i].(*ast.Ident)
				code, named := consts[info.Uses[id]]
				if !isCode(sig.Params().At(i).Type()) || !ok || !named {
					continue // not a code, or a wrapper passing its own on
				}
				given[code]++
				if i+1 >= sig.Params().Len() || sig.Params().At(i+1).Name() != "format" {
					t.Errorf("%s: %s given without its English format", where(id), id.Name)
					continue
				}
				format := info.Types[call.Args[i+1]].Value
				if format == nil || format.Kind() != constant.String {
					t.Errorf("%s: the format of %s is not a constant", where(call.Args[i+1]), id.Name)
				} else if got, want := verbs(constant.StringVal(format)), trial.ReasonCodes[code]; got != want {
					t.Errorf("%s: %s names %d values, but ReasonCodes says a translation shows %d", where(id), id.Name, got, want)
				}
			}
			return true
		})
	}
	sites := 0
	for _, n := range given {
		sites += n
	}
	for code := range trial.ReasonCodes {
		if given[code] == 0 {
			t.Errorf("%s (%q) is given nowhere: remove it, with its translations", byValue[code], code)
		}
	}
	if sites < 100 {
		t.Errorf("found only %d sites giving a reason: the reader is broken", sites)
	}
}

// The reasons reach callers with their codes and values: a FieldError's
// Args are the values as its English text writes them (quoted where it
// quotes), and the exported checks return a *ReasonError.
func TestReasonsCarryCodeAndValues(t *testing.T) {
	m := trial.Monitor{TrialID: 1, Name: "山田 太郎", Kana: "やまだ x", AgeBand: "teen", Status: trial.StatusEnrolled}
	err := m.Validate()
	var fes trial.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("Validate = %v, want FieldErrors", err)
	}
	want := map[string]trial.FieldError{
		"kana":     {Field: "kana", Code: trial.ReasonKatakana, Args: []string{`'x'`}, Reason: `must be katakana (hiragana is converted), found 'x'`},
		"age_band": {Field: "age_band", Code: trial.ReasonAgeBand, Args: []string{`"teen"`, strings.Join(trial.AgeBands, ", ")}},
	}
	if len(fes) != len(want) {
		t.Fatalf("errors = %v, want on %d fields", fes, len(want))
	}
	for _, fe := range fes {
		w := want[fe.Field]
		if fe.Code != w.Code || strings.Join(fe.Args, "|") != strings.Join(w.Args, "|") || w.Reason != "" && fe.Reason != w.Reason {
			t.Errorf("%s: got code %q args %q reason %q, want %q %q", fe.Field, fe.Code, fe.Args, fe.Reason, w.Code, w.Args)
		}
	}

	tr := trial.Trial{Name: "x", Kind: trial.KindLoan, LoanDays: 120}
	err = tr.Validate()
	if !errors.As(err, &fes) || err.Error() != "loan_days: must be 1 to 90 days, got 120" ||
		fes[0].Code != trial.ReasonLoanDays || strings.Join(fes[0].Args, "|") != "120" {
		t.Errorf("Trial.Validate = %v (%+v)", err, fes)
	}

	var re *trial.ReasonError
	for _, c := range []struct {
		err  error
		code trial.ReasonCode
		args []string
	}{
		{trial.CheckIMEI("35209900176148"), trial.ReasonIMEILength, []string{"14"}},
		{trial.CheckIMEI("352099001761482"), trial.ReasonIMEILuhn, []string{"352099001761482"}},
		{trial.CheckICCID("8.98110100000001E+18"), trial.ReasonExcelShortened, []string{`"8.98110100000001E+18"`}},
		{trial.CheckICCID("1981101000000000019"), trial.ReasonICCIDPrefix, []string{"1981101000000000019"}},
	} {
		if !errors.As(c.err, &re) || re.Code != c.code || strings.Join(re.Args, "|") != strings.Join(c.args, "|") || re.Error() != c.err.Error() {
			t.Errorf("%v: got %+v, want code %q args %q", c.err, re, c.code, c.args)
		}
	}
	if err := trial.CheckIMEI("352099001761481"); err != nil {
		t.Errorf("a good IMEI: %v", err)
	}
	if _, err := trial.NormalizeKana("ヤマダ"); err != nil {
		t.Errorf("good kana: %v", err)
	}
}
