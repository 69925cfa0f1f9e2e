package conform

import (
	"fmt"
	"strings"
)

// tokKind is a lexical token's kind, after packetdrill's lexer.l.
type tokKind uint8

const (
	tokEOF       tokKind = iota
	tokInt               // -?[0-9]+ or 0x[0-9a-f]+
	tokFloat             // -?[0-9]*\.[0-9]+
	tokWord              // [a-zA-Z0-9_]+
	tokString            // "..."
	tokBackquote         // `...`
	tokCode              // %{ ... }%
	tokOption            // --name=value
	tokEllipsis          // ...
	tokPunct             // any other single character
)

type token struct {
	kind tokKind
	text string // the token as written (strings and code: their contents)
	line int
	// val is the name of an option token; text holds its value.
	val string
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokString:
		return fmt.Sprintf("%q", t.text)
	case tokOption:
		return "--" + t.val
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits a script into tokens. Comments are dropped from the token
// stream but kept by line, so the parser can read markers from them.
type lexer struct {
	src      string
	pos      int
	line     int
	comments map[int][]string // line -> text of // comments on it
	toks     []token
}

func lex(src string) ([]token, map[int][]string, error) {
	l := &lexer{src: src, line: 1, comments: map[int][]string{}}
	for {
		t, err := l.next()
		if err != nil {
			return nil, nil, err
		}
		l.toks = append(l.toks, t)
		if t.kind == tokEOF {
			return l.toks, l.comments, nil
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordChar(c byte) bool {
	return c == '_' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (l *lexer) peek(off int) byte {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return 0
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", l.line, fmt.Sprintf(format, args...))
}

func (l *lexer) next() (token, error) {
	// Whitespace and comments.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
		case c == '/' && l.peek(1) == '/':
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				end = len(l.src) - l.pos
			}
			text := strings.TrimSpace(l.src[l.pos+2 : l.pos+end])
			l.comments[l.line] = append(l.comments[l.line], text)
			l.pos += end
		case c == '/' && l.peek(1) == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return token{}, l.errorf("unterminated /* comment")
			}
			body := l.src[l.pos : l.pos+2+end+2]
			l.line += strings.Count(body, "\n")
			l.pos += len(body)
		default:
			goto tok
		}
	}
	return token{kind: tokEOF, line: l.line}, nil
tok:
	start, line := l.pos, l.line
	c := l.src[l.pos]
	mk := func(k tokKind, text string) token { return token{kind: k, text: text, line: line} }
	switch {
	case c == '%' && l.peek(1) == '{':
		end := strings.Index(l.src[l.pos+2:], "}%")
		if end < 0 {
			return token{}, l.errorf("unterminated %%{ code block")
		}
		body := l.src[l.pos+2 : l.pos+2+end]
		l.line += strings.Count(body, "\n")
		l.pos += 2 + end + 2
		return mk(tokCode, body), nil
	case c == '`' || c == '"':
		i := l.pos + 1
		var b strings.Builder
		for ; i < len(l.src) && l.src[i] != c; i++ {
			if l.src[i] == '\\' && i+1 < len(l.src) {
				// A shell line keeps its backslashes for the shell; a
				// string takes C's escapes.
				if c == '`' {
					b.WriteByte('\\')
				} else if v, n, ok := cEscape(l.src[i+1:]); ok {
					b.WriteByte(v)
					i += n
					continue
				}
				i++
			}
			if l.src[i] == '\n' {
				l.line++
			}
			b.WriteByte(l.src[i])
		}
		if i >= len(l.src) {
			return token{}, fmt.Errorf("line %d: unterminated %c", line, c)
		}
		l.pos = i + 1
		if c == '`' {
			return mk(tokBackquote, b.String()), nil
		}
		return mk(tokString, b.String()), nil
	case c == '-' && l.peek(1) == '-' && isWordChar(l.peek(2)):
		i := l.pos + 2
		for i < len(l.src) && isWordChar(l.src[i]) {
			i++
		}
		name := l.src[l.pos+2 : i]
		val := ""
		if i < len(l.src) && l.src[i] == '=' {
			j := i + 1
			for j < len(l.src) && l.src[j] != ' ' && l.src[j] != '\t' && l.src[j] != '\n' && l.src[j] != '\r' {
				j++
			}
			val = l.src[i+1 : j]
			i = j
		}
		l.pos = i
		return token{kind: tokOption, val: name, text: val, line: line}, nil
	case c == '.' && l.peek(1) == '.' && l.peek(2) == '.':
		l.pos += 3
		return mk(tokEllipsis, "..."), nil
	case c == '.' && isDigit(l.peek(1)), c == '-' && (isDigit(l.peek(1)) || l.peek(1) == '.' && isDigit(l.peek(2))), isWordChar(c):
		return l.number(start, line)
	}
	l.pos++
	return mk(tokPunct, string(c)), nil
}

// number lexes a number or a word starting at start.
func (l *lexer) number(start, line int) (token, error) {
	i := start
	if l.src[i] == '-' {
		i++
	}
	j := i
	for j < len(l.src) && isWordChar(l.src[j]) {
		j++
	}
	word := l.src[i:j]
	allDigits := word != ""
	for k := 0; k < len(word); k++ {
		if !isDigit(word[k]) {
			allDigits = false
		}
	}
	// A float: digits (maybe none), a dot, then at least one digit.
	if (allDigits || word == "") && j+1 < len(l.src) && l.src[j] == '.' && isDigit(l.src[j+1]) {
		k := j + 1
		for k < len(l.src) && isDigit(l.src[k]) {
			k++
		}
		l.pos = k
		return token{kind: tokFloat, text: l.src[start:k], line: line}, nil
	}
	if word == "" {
		// A lone '-' (the "no flags" packet flag) or '.'.
		l.pos = start + 1
		return token{kind: tokPunct, text: l.src[start : start+1], line: line}, nil
	}
	l.pos = j
	switch {
	case allDigits:
		return token{kind: tokInt, text: l.src[start:j], line: line}, nil
	case strings.HasPrefix(word, "0x") && len(word) > 2:
		return token{kind: tokInt, text: l.src[start:j], line: line}, nil
	case l.src[start] == '-':
		// "-foo": a '-' then a word.
		l.pos = start + 1
		return token{kind: tokPunct, text: "-", line: line}, nil
	}
	return token{kind: tokWord, text: word, line: line}, nil
}

// cEscape decodes the escape after a backslash in a string: \xHH, an
// octal \NNN, or \n \t \r \0; n is how many bytes it took.
func cEscape(s string) (v byte, n int, ok bool) {
	hexVal := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	switch {
	case len(s) >= 3 && s[0] == 'x':
		hi, ok1 := hexVal(s[1])
		lo, ok2 := hexVal(s[2])
		if ok1 && ok2 {
			return hi<<4 | lo, 3, true
		}
	case len(s) >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7':
		return (s[0]-'0')<<6 | (s[1]-'0')<<3 | (s[2] - '0'), 3, true
	case len(s) >= 1 && (s[0] == 'n' || s[0] == 't' || s[0] == 'r' || s[0] == '0'):
		return map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '0': 0}[s[0]], 1, true
	}
	return 0, 0, false
}
