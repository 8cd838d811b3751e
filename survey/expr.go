package survey

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The expression language of XLSForm `relevant` and `constraint` cells, the
// subset the trial's forms need: ${field} references, `.` (the value being
// checked, in a constraint), number and string literals, = != < <= > >=,
// and / or / not(), selected(), count-selected(), string-length() and
// parentheses. Values are strings as in XPath; comparisons with a number, and
// the ordering comparisons, are numeric.

// Expr is a parsed expression.
type Expr interface {
	String() string // source form that parses back to the same tree
	eval(env Env) value
}

// Env gives an expression the answers it refers to.
type Env interface {
	// Lookup returns the answer of field name ("" when unanswered).
	Lookup(name string) string
	// Self returns the value being checked by a constraint.
	Self() string
}

// ExprError is a parse error at a byte offset of the source.
type ExprError struct {
	Pos int
	Msg string
}

func (e *ExprError) Error() string { return fmt.Sprintf("at character %d: %s", e.Pos+1, e.Msg) }

// ParseExpr parses an expression.
func ParseExpr(src string) (Expr, error) {
	p := &parser{src: src}
	p.next()
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind == tEOF {
		return nil, &ExprError{0, "empty expression"}
	}
	e := p.parseOr()
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind != tEOF {
		return nil, &ExprError{p.tok.pos, fmt.Sprintf("unexpected %s", p.tok)}
	}
	return e, nil
}

// Refs lists the fields an expression refers to, each once, in order.
func Refs(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	walk(e, func(x Expr) {
		if r, ok := x.(*refExpr); ok && !seen[r.name] {
			seen[r.name] = true
			out = append(out, r.name)
		}
	})
	return out
}

// usesSelf reports whether e contains `.`.
func usesSelf(e Expr) bool {
	found := false
	walk(e, func(x Expr) {
		if _, ok := x.(selfExpr); ok {
			found = true
		}
	})
	return found
}

func walk(e Expr, fn func(Expr)) {
	fn(e)
	switch x := e.(type) {
	case *binExpr:
		walk(x.l, fn)
		walk(x.r, fn)
	case *callExpr:
		for _, a := range x.args {
			walk(a, fn)
		}
	}
}

// Truthy evaluates e and converts the result to a boolean (XPath boolean()).
func Truthy(e Expr, env Env) bool { return e.eval(env).truthy() }

// ---- values

type valueKind uint8

const (
	vString valueKind = iota
	vNumber
	vBool
)

type value struct {
	kind valueKind
	s    string
	n    float64
	b    bool
}

func (v value) truthy() bool {
	switch v.kind {
	case vBool:
		return v.b
	case vNumber:
		return v.n != 0 && !math.IsNaN(v.n)
	}
	return v.s != ""
}

// number converts like XPath number(): an unparsable string is NaN.
func (v value) number() float64 {
	switch v.kind {
	case vNumber:
		return v.n
	case vBool:
		if v.b {
			return 1
		}
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func (v value) str() string {
	switch v.kind {
	case vNumber:
		return strconv.FormatFloat(v.n, 'f', -1, 64)
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return v.s
}

func compare(op string, a, b value) bool {
	switch {
	case a.kind == vBool || b.kind == vBool:
		x, y := a.truthy(), b.truthy()
		switch op {
		case "=":
			return x == y
		case "!=":
			return x != y
		}
		return cmpNum(op, a.number(), b.number())
	case op == "=" || op == "!=":
		var eq bool
		if a.kind == vNumber || b.kind == vNumber {
			eq = a.number() == b.number() // NaN is never equal
		} else {
			eq = a.s == b.s
		}
		return eq == (op == "=")
	}
	return cmpNum(op, a.number(), b.number())
}

func cmpNum(op string, x, y float64) bool {
	switch op {
	case "<":
		return x < y
	case "<=":
		return x <= y
	case ">":
		return x > y
	case ">=":
		return x >= y
	case "=":
		return x == y
	}
	return x != y
}

// ---- AST

type litExpr struct{ v value }

func (e *litExpr) eval(Env) value { return e.v }
func (e *litExpr) String() string {
	if e.v.kind == vNumber {
		return e.v.str()
	}
	if !strings.Contains(e.v.s, "'") {
		return "'" + e.v.s + "'"
	}
	return `"` + e.v.s + `"`
}

type refExpr struct{ name string }

func (e *refExpr) eval(env Env) value { return value{s: env.Lookup(e.name)} }
func (e *refExpr) String() string     { return "${" + e.name + "}" }

type selfExpr struct{}

func (selfExpr) eval(env Env) value { return value{s: env.Self()} }
func (selfExpr) String() string     { return "." }

type binExpr struct {
	op   string // and or = != < <= > >=
	l, r Expr
}

func (e *binExpr) eval(env Env) value {
	switch e.op {
	case "and":
		return value{kind: vBool, b: e.l.eval(env).truthy() && e.r.eval(env).truthy()}
	case "or":
		return value{kind: vBool, b: e.l.eval(env).truthy() || e.r.eval(env).truthy()}
	}
	return value{kind: vBool, b: compare(e.op, e.l.eval(env), e.r.eval(env))}
}

func (e *binExpr) String() string { return "(" + e.l.String() + " " + e.op + " " + e.r.String() + ")" }

type callExpr struct {
	fn   string
	args []Expr
}

// functions: name → number of arguments.
var functions = map[string]int{"not": 1, "selected": 2, "count-selected": 1, "string-length": 1}

func (e *callExpr) eval(env Env) value {
	switch e.fn {
	case "not":
		return value{kind: vBool, b: !e.args[0].eval(env).truthy()}
	case "selected":
		want := strings.TrimSpace(e.args[1].eval(env).str())
		for _, c := range strings.Fields(e.args[0].eval(env).str()) {
			if c == want {
				return value{kind: vBool, b: true}
			}
		}
		return value{kind: vBool}
	case "count-selected":
		return value{kind: vNumber, n: float64(len(strings.Fields(e.args[0].eval(env).str())))}
	case "string-length":
		return value{kind: vNumber, n: float64(utf8.RuneCountInString(e.args[0].eval(env).str()))}
	}
	panic("survey: unknown function " + e.fn) // the parser admits only known names
}

func (e *callExpr) String() string {
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.String()
	}
	return e.fn + "(" + strings.Join(parts, ", ") + ")"
}

// ---- lexer

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tRef
	tDot
	tIdent
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	pos  int
	text string // identifier, operator, ref name, string contents or number source
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return fmt.Sprintf("string '%s'", t.text)
	case tRef:
		return "${" + t.text + "}"
	}
	return fmt.Sprintf("%q", t.text)
}

type parser struct {
	src   string
	pos   int
	tok   token
	err   error
	depth int
}

func (p *parser) fail(pos int, format string, a ...any) {
	if p.err == nil {
		p.err = &ExprError{pos, fmt.Sprintf(format, a...)}
	}
	p.tok = token{kind: tEOF, pos: len(p.src)}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func (p *parser) next() {
	if p.err != nil {
		return
	}
	s := p.src
	for p.pos < len(s) && (s[p.pos] == ' ' || s[p.pos] == '\t' || s[p.pos] == '\n' || s[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(s) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	c := s[p.pos]
	switch {
	case isDigit(c) || c == '.' && p.pos+1 < len(s) && isDigit(s[p.pos+1]):
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
		if p.pos < len(s) && s[p.pos] == '.' {
			p.pos++
			for p.pos < len(s) && isDigit(s[p.pos]) {
				p.pos++
			}
		}
		p.tok = token{kind: tNum, pos: start, text: s[start:p.pos]}
	case c == '.':
		p.pos++
		p.tok = token{kind: tDot, pos: start, text: "."}
	case c == '\'' || c == '"':
		end := strings.IndexByte(s[p.pos+1:], c)
		if end < 0 {
			p.fail(start, "unterminated string")
			return
		}
		p.tok = token{kind: tStr, pos: start, text: s[p.pos+1 : p.pos+1+end]}
		p.pos += end + 2
	case c == '$':
		if p.pos+1 >= len(s) || s[p.pos+1] != '{' {
			p.fail(start, "'$' must start a ${field} reference")
			return
		}
		end := strings.IndexByte(s[p.pos+2:], '}')
		if end < 0 {
			p.fail(start, "unterminated ${field} reference")
			return
		}
		name := s[p.pos+2 : p.pos+2+end]
		if !validName(name) {
			p.fail(start, "bad field name %q in reference", name)
			return
		}
		p.tok = token{kind: tRef, pos: start, text: name}
		p.pos += end + 3
	case isIdentStart(c):
		for p.pos < len(s) && (isIdentStart(s[p.pos]) || isDigit(s[p.pos]) || s[p.pos] == '-') {
			p.pos++
		}
		p.tok = token{kind: tIdent, pos: start, text: s[start:p.pos]}
	case c == '(':
		p.pos++
		p.tok = token{kind: tLParen, pos: start, text: "("}
	case c == ')':
		p.pos++
		p.tok = token{kind: tRParen, pos: start, text: ")"}
	case c == ',':
		p.pos++
		p.tok = token{kind: tComma, pos: start, text: ","}
	case c == '=':
		p.pos++
		p.tok = token{kind: tOp, pos: start, text: "="}
	case c == '!' || c == '<' || c == '>':
		p.pos++
		op := string(c)
		if p.pos < len(s) && s[p.pos] == '=' {
			p.pos++
			op += "="
		}
		if op == "!" {
			p.fail(start, "'!' must be followed by '=' (use not() to negate)")
			return
		}
		p.tok = token{kind: tOp, pos: start, text: op}
	default:
		r, _ := utf8.DecodeRuneInString(s[p.pos:])
		p.fail(start, "unexpected character %q", r)
	}
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 100

func (p *parser) parseOr() Expr {
	l := p.parseAnd()
	for p.err == nil && p.tok.kind == tIdent && p.tok.text == "or" {
		p.next()
		l = &binExpr{op: "or", l: l, r: p.parseAnd()}
	}
	return l
}

func (p *parser) parseAnd() Expr {
	l := p.parseCmp()
	for p.err == nil && p.tok.kind == tIdent && p.tok.text == "and" {
		p.next()
		l = &binExpr{op: "and", l: l, r: p.parseCmp()}
	}
	return l
}

func (p *parser) parseCmp() Expr {
	l := p.parsePrimary()
	if p.err == nil && p.tok.kind == tOp {
		op := p.tok.text
		p.next()
		r := p.parsePrimary()
		if p.err == nil && p.tok.kind == tOp {
			p.fail(p.tok.pos, "comparisons cannot be chained; use and")
		}
		l = &binExpr{op: op, l: l, r: r}
	}
	return l
}

func (p *parser) parsePrimary() Expr {
	t := p.tok
	switch t.kind {
	case tNum:
		p.next()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail(t.pos, "bad number %q", t.text)
			return nil
		}
		return &litExpr{value{kind: vNumber, n: f}}
	case tStr:
		p.next()
		return &litExpr{value{s: t.text}}
	case tRef:
		p.next()
		return &refExpr{name: t.text}
	case tDot:
		p.next()
		return selfExpr{}
	case tLParen:
		p.next()
		e := p.parseNested()
		if p.err == nil && p.tok.kind != tRParen {
			p.fail(p.tok.pos, "expected ')' but found %s", p.tok)
		}
		p.next()
		return e
	case tIdent:
		if t.text == "and" || t.text == "or" {
			p.fail(t.pos, "%q needs an expression before it", t.text)
			return nil
		}
		n, ok := functions[t.text]
		if !ok {
			if t.text == "true" || t.text == "false" {
				p.fail(t.pos, "write %s() as a comparison, e.g. ${field} = 'yes'", t.text)
			} else {
				p.fail(t.pos, "unknown function or word %q (known: not, selected, count-selected, string-length)", t.text)
			}
			return nil
		}
		p.next()
		if p.tok.kind != tLParen {
			p.fail(p.tok.pos, "expected '(' after %s", t.text)
			return nil
		}
		p.next()
		var args []Expr
		for p.err == nil && p.tok.kind != tRParen {
			if len(args) > 0 {
				if p.tok.kind != tComma {
					p.fail(p.tok.pos, "expected ',' or ')' but found %s", p.tok)
					return nil
				}
				p.next()
			}
			args = append(args, p.parseNested())
		}
		if p.err != nil {
			return nil
		}
		p.next()
		if len(args) != n {
			p.fail(t.pos, "%s() takes %d argument(s), not %d", t.text, n, len(args))
			return nil
		}
		return &callExpr{fn: t.text, args: args}
	case tEOF:
		p.fail(t.pos, "expression ends too early")
		return nil
	}
	p.fail(t.pos, "unexpected %s", t)
	return nil
}

// parseNested parses a full expression inside parentheses or arguments.
func (p *parser) parseNested() Expr {
	if p.depth >= maxDepth {
		p.fail(p.tok.pos, "expression nested too deeply")
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	return p.parseOr()
}
