package conform

import (
	"fmt"
	"strconv"
	"strings"
)

// A %{ }% block is Python that packetdrill runs with the socket's
// tcp_info fields bound as tcpi_* names. The runner evaluates the subset
// the corpus uses, on its own: statements separated by newlines or ';'
// (assert EXPR[, MSG], NAME = EXPR, NAME += EXPR, print(...)), and
// expressions of integers, strings, names, calls of min/max/int/print,
// + - * / // % & | ^ << >>, comparisons (chained, as Python's), not, and,
// or. A name it cannot bind (a tcpi_ field the backend does not keep)
// fails the block, saying so.

// pyEnv is what a block's names are bound to.
type pyEnv struct {
	vars map[string]pyVal // assigned by earlier blocks
	info map[string]int64 // tcp_info of the socket under test
	// infoErr says why there is no tcp_info, if so.
	infoErr error
	backend string
	printed []string
}

// pyVal is an int64, a string or a tuple ([]pyVal).
type pyVal any

// pyError is a failed assertion or a block the runner could not run.
type pyError struct{ msg string }

func (e *pyError) Error() string { return e.msg }

func pyErrorf(format string, args ...any) *pyError {
	return &pyError{msg: fmt.Sprintf(format, args...)}
}

type pyTok struct {
	kind byte // 'n' number, 's' string, 'w' name, 'o' operator, ';' end of statement, 0 end
	text string
	num  int64
}

func pyLex(src string) ([]pyTok, error) {
	src = strings.ReplaceAll(src, "\\\n", " ")
	var toks []pyTok
	depth := 0
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\n' || c == ';':
			if depth == 0 {
				toks = append(toks, pyTok{kind: ';'})
			}
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isWordChar(src[j])) {
				j++
			}
			v, err := strconv.ParseInt(strings.ReplaceAll(src[i:j], "_", ""), 0, 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", src[i:j])
			}
			toks = append(toks, pyTok{kind: 'n', num: v, text: src[i:j]})
			i = j
		case isWordChar(c):
			j := i
			for j < len(src) && isWordChar(src[j]) {
				j++
			}
			toks = append(toks, pyTok{kind: 'w', text: src[i:j]})
			i = j
		case c == '\'' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, pyTok{kind: 's', text: src[i+1 : i+1+j]})
			i += j + 2
		default:
			op := string(c)
			if i+1 < len(src) {
				two := src[i : i+2]
				switch two {
				case "==", "!=", "<=", ">=", "//", "<<", ">>", "+=", "-=", "*=", "|=", "&=", "**":
					op = two
				}
			}
			switch op {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
			}
			if !strings.Contains("()[],=<>!+-*/%&|^~:", op[:1]) {
				return nil, fmt.Errorf("unexpected %q", op)
			}
			toks = append(toks, pyTok{kind: 'o', text: op})
			i += len(op)
		}
	}
	return append(toks, pyTok{kind: 0}), nil
}

type pyParser struct {
	toks []pyTok
	pos  int
	env  *pyEnv
	// skip evaluates nothing (the unused side of and/or, an assert's
	// message while it holds).
	skip int
}

func (p *pyParser) peek() pyTok { return p.toks[p.pos] }
func (p *pyParser) next() pyTok {
	t := p.toks[p.pos]
	if t.kind != 0 {
		p.pos++
	}
	return t
}
func (p *pyParser) isOp(s string) bool { t := p.peek(); return t.kind == 'o' && t.text == s }
func (p *pyParser) isWord(s string) bool {
	t := p.peek()
	return t.kind == 'w' && t.text == s
}

// runPython runs a block in env.
func runPython(src string, env *pyEnv) error {
	toks, err := pyLex(src)
	if err != nil {
		return pyErrorf("cannot read the block: %v", err)
	}
	p := &pyParser{toks: toks, env: env}
	for p.peek().kind != 0 {
		if p.peek().kind == ';' {
			p.next()
			continue
		}
		if err := p.statement(); err != nil {
			return err
		}
		if t := p.peek(); t.kind != ';' && t.kind != 0 {
			return pyErrorf("unexpected %q", t.text)
		}
	}
	return nil
}

func (p *pyParser) statement() error {
	start := p.pos
	if p.isWord("assert") {
		p.next()
		exprStart := p.pos
		v, err := p.expr()
		if err != nil {
			return err
		}
		text := p.text(exprStart, p.pos)
		ok := truthy(v)
		var msg pyVal
		if p.isOp(",") {
			p.next()
			if ok {
				p.skip++
			}
			msg, err = p.expr()
			if ok {
				p.skip--
			}
			if err != nil {
				return err
			}
		}
		if !ok {
			return pyErrorf("assert %s failed (%s)%s", text, p.bindings(exprStart, p.pos), pyMsg(msg))
		}
		return nil
	}
	if t := p.peek(); t.kind == 'w' && p.toks[p.pos+1].kind == 'o' {
		switch op := p.toks[p.pos+1].text; op {
		case "=", "+=", "-=", "*=", "|=", "&=":
			p.pos += 2
			v, err := p.expr()
			if err != nil {
				return err
			}
			if op != "=" {
				old, err := p.name(t.text)
				if err != nil {
					return err
				}
				if v, err = binop(op[:1], old, v); err != nil {
					return err
				}
			}
			p.env.vars[t.text] = v
			return nil
		}
	}
	p.pos = start
	_, err := p.expr()
	return err
}

// text is the source of tokens [from, to), for messages.
func (p *pyParser) text(from, to int) string {
	var parts []string
	for _, t := range p.toks[from:to] {
		switch t.kind {
		case 's':
			parts = append(parts, "'"+t.text+"'")
		case 'n':
			parts = append(parts, t.text)
		default:
			parts = append(parts, t.text)
		}
	}
	return strings.Join(parts, " ")
}

// bindings lists the tcpi_ names among tokens [from, to) and their values.
func (p *pyParser) bindings(from, to int) string {
	seen := map[string]bool{}
	var parts []string
	for _, t := range p.toks[from:to] {
		if t.kind != 'w' || seen[t.text] {
			continue
		}
		seen[t.text] = true
		if v, err := p.name(t.text); err == nil {
			if n, ok := v.(int64); ok && (strings.HasPrefix(t.text, "tcpi_") || p.env.vars[t.text] != nil) {
				parts = append(parts, fmt.Sprintf("%s=%d", t.text, n))
			}
		}
	}
	if len(parts) == 0 {
		return p.env.backend
	}
	return p.env.backend + ": " + strings.Join(parts, ", ")
}

func pyMsg(v pyVal) string {
	switch m := v.(type) {
	case nil:
		return ""
	case string:
		return ": " + m
	}
	return fmt.Sprintf(": %v", pyStr(v))
}

func pyStr(v pyVal) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	case []pyVal:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyStr(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return "None"
}

func truthy(v pyVal) bool {
	switch x := v.(type) {
	case int64:
		return x != 0
	case string:
		return x != ""
	case []pyVal:
		return len(x) > 0
	}
	return false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (p *pyParser) expr() (pyVal, error) {
	v, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		if truthy(v) {
			p.skip++
		}
		r, err := p.and()
		if truthy(v) {
			p.skip--
		} else {
			v = r
		}
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (p *pyParser) and() (pyVal, error) {
	v, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		if !truthy(v) {
			p.skip++
		}
		r, err := p.not()
		if !truthy(v) {
			p.skip--
		} else {
			v = r
		}
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (p *pyParser) not() (pyVal, error) {
	if p.isWord("not") {
		p.next()
		v, err := p.not()
		if err != nil {
			return nil, err
		}
		return b2i(!truthy(v)), nil
	}
	return p.comparison()
}

var compOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// comparison evaluates a chain a < b <= c as Python does.
func (p *pyParser) comparison() (pyVal, error) {
	left, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	result := pyVal(nil)
	for p.peek().kind == 'o' && compOps[p.peek().text] {
		op := p.next().text
		right, err := p.binary(0)
		if err != nil {
			return nil, err
		}
		ok, err := compare(op, left, right)
		if err != nil && p.skip == 0 {
			return nil, err
		}
		if result == nil || truthy(result) {
			result = b2i(ok)
		}
		left = right
	}
	if result == nil {
		return left, nil
	}
	return result, nil
}

func compare(op string, a, b pyVal) (bool, error) {
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	if !ok1 || !ok2 {
		if op == "==" || op == "!=" {
			eq := pyStr(a) == pyStr(b)
			return eq == (op == "=="), nil
		}
		return false, pyErrorf("cannot compare %s %s %s", pyStr(a), op, pyStr(b))
	}
	switch op {
	case "==":
		return x == y, nil
	case "!=":
		return x != y, nil
	case "<":
		return x < y, nil
	case "<=":
		return x <= y, nil
	case ">":
		return x > y, nil
	}
	return x >= y, nil
}

// Binary operators by precedence, lowest first.
var pyLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%"}}

func (p *pyParser) binary(level int) (pyVal, error) {
	if level == len(pyLevels) {
		return p.unary()
	}
	v, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		found := false
		for _, op := range pyLevels[level] {
			if t.kind == 'o' && t.text == op {
				found = true
			}
		}
		if !found {
			return v, nil
		}
		p.next()
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		if p.skip > 0 {
			continue
		}
		if v, err = binop(t.text, v, r); err != nil {
			return nil, err
		}
	}
}

func binop(op string, a, b pyVal) (pyVal, error) {
	if s, ok := a.(string); ok && op == "%" {
		return pyFormat(s, b), nil
	}
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	if !ok1 || !ok2 {
		if s, ok := a.(string); ok && op == "+" {
			return s + pyStr(b), nil
		}
		return nil, pyErrorf("cannot compute %s %s %s", pyStr(a), op, pyStr(b))
	}
	switch op {
	case "|":
		return x | y, nil
	case "^":
		return x ^ y, nil
	case "&":
		return x & y, nil
	case "<<":
		return x << uint(y), nil
	case ">>":
		return x >> uint(y), nil
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	}
	if y == 0 {
		return nil, pyErrorf("division by zero")
	}
	switch op {
	case "/", "//":
		q := x / y
		if (x%y != 0) && ((x < 0) != (y < 0)) {
			q-- // Python floors
		}
		return q, nil
	}
	m := x % y
	if m != 0 && (m < 0) != (y < 0) {
		m += y
	}
	return m, nil
}

// pyFormat applies "%d"-style formatting, as the corpus's messages use.
func pyFormat(f string, arg pyVal) string {
	args, ok := arg.([]pyVal)
	if !ok {
		args = []pyVal{arg}
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		if len(args) > 0 {
			b.WriteString(pyStr(args[0]))
			args = args[1:]
		}
	}
	return b.String()
}

func (p *pyParser) unary() (pyVal, error) {
	if p.isOp("-") || p.isOp("+") || p.isOp("~") {
		op := p.next().text
		v, err := p.unary()
		if err != nil {
			return nil, err
		}
		if p.skip > 0 {
			return int64(0), nil
		}
		n, ok := v.(int64)
		if !ok {
			return nil, pyErrorf("bad operand for unary %s", op)
		}
		switch op {
		case "-":
			return -n, nil
		case "~":
			return ^n, nil
		}
		return n, nil
	}
	return p.atom()
}

func (p *pyParser) atom() (pyVal, error) {
	t := p.next()
	switch t.kind {
	case 'n':
		return t.num, nil
	case 's':
		return t.text, nil
	case 'w':
		if p.isOp("(") {
			p.next()
			var args []pyVal
			for !p.isOp(")") {
				v, err := p.expr()
				if err != nil {
					return nil, err
				}
				args = append(args, v)
				if p.isOp(",") {
					p.next()
				} else if !p.isOp(")") {
					return nil, pyErrorf("expected ) in the call of %s", t.text)
				}
			}
			p.next()
			return p.call(t.text, args)
		}
		if t.text == "True" {
			return int64(1), nil
		}
		if t.text == "False" || t.text == "None" {
			return int64(0), nil
		}
		if p.skip > 0 {
			return int64(0), nil
		}
		return p.name(t.text)
	case 'o':
		if t.text == "(" {
			var elems []pyVal
			for !p.isOp(")") {
				v, err := p.expr()
				if err != nil {
					return nil, err
				}
				elems = append(elems, v)
				if p.isOp(",") {
					p.next()
				} else if !p.isOp(")") {
					return nil, pyErrorf("expected )")
				}
			}
			p.next()
			if len(elems) == 1 {
				return elems[0], nil
			}
			return elems, nil
		}
	}
	return nil, pyErrorf("unexpected %q", t.text)
}

func (p *pyParser) call(name string, args []pyVal) (pyVal, error) {
	if p.skip > 0 {
		return int64(0), nil
	}
	switch name {
	case "print":
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = pyStr(a)
		}
		p.env.printed = append(p.env.printed, strings.Join(parts, " "))
		return nil, nil
	case "min", "max":
		if len(args) == 0 {
			return nil, pyErrorf("%s() needs arguments", name)
		}
		best, ok := args[0].(int64)
		for _, a := range args[1:] {
			n, ok2 := a.(int64)
			ok = ok && ok2
			if name == "min" && n < best || name == "max" && n > best {
				best = n
			}
		}
		if !ok {
			return nil, pyErrorf("%s() of non-integers", name)
		}
		return best, nil
	case "int", "abs":
		if len(args) != 1 {
			return nil, pyErrorf("%s() takes one argument", name)
		}
		n, ok := args[0].(int64)
		if !ok {
			if s, isStr := args[0].(string); isStr && name == "int" {
				v, err := strconv.ParseInt(s, 0, 64)
				if err != nil {
					return nil, pyErrorf("int(%q)", s)
				}
				return v, nil
			}
			return nil, pyErrorf("%s() of a non-integer", name)
		}
		if name == "abs" && n < 0 {
			n = -n
		}
		return n, nil
	}
	return nil, pyErrorf("the runner's Python has no function %s()", name)
}

func (p *pyParser) name(n string) (pyVal, error) {
	if v, ok := p.env.vars[n]; ok {
		return v, nil
	}
	if strings.HasPrefix(n, "tcpi_") {
		if p.env.infoErr != nil {
			return nil, pyErrorf("%s: no tcp_info on %s: %v", n, p.env.backend, p.env.infoErr)
		}
		if v, ok := p.env.info[n]; ok {
			return v, nil
		}
		return nil, pyErrorf("%s cannot evaluate %s: it keeps no such state yet", p.env.backend, n)
	}
	if v, ok := symbols[n]; ok {
		return v, nil
	}
	return nil, pyErrorf("name %s is not defined", n)
}
