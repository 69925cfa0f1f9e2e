package conform

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// ParseFile reads and parses a script file.
func ParseFile(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path, string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Dir = filepath.Dir(path)
	return s, nil
}

// substitute replaces each word token named in defines by the tokens of
// its value (packetdrill's -D NAME=VALUE).
func substitute(toks []token, defines map[string]string) ([]token, error) {
	if len(defines) == 0 {
		return toks, nil
	}
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		v, ok := defines[t.text]
		if t.kind != tokWord || !ok {
			out = append(out, t)
			continue
		}
		vt, _, err := lex(v)
		if err != nil {
			return nil, fmt.Errorf("-D %s=%s: %w", t.text, v, err)
		}
		for _, x := range vt[:len(vt)-1] {
			x.line = t.line
			out = append(out, x)
		}
	}
	return out, nil
}

// Parse parses a script's text; name is used in reports.
func Parse(name, src string) (*Script, error) { return ParseDefines(name, src, nil) }

// ParseFileDefines reads and parses a script file with packetdrill's -D
// definitions: a word of the script named in defines stands for its
// value.
func ParseFileDefines(path string, defines map[string]string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseDefines(path, string(b), defines)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Dir = filepath.Dir(path)
	return s, nil
}

// ParseDefines parses a script's text with -D definitions.
func ParseDefines(name, src string, defines map[string]string) (*Script, error) {
	toks, comments, err := lex(src)
	if err != nil {
		return nil, err
	}
	if toks, err = substitute(toks, defines); err != nil {
		return nil, err
	}
	p := &parser{toks: toks, s: &Script{Name: name, Dir: "."}, lines: strings.Split(src, "\n")}
	if err := p.script(); err != nil {
		return nil, err
	}
	p.markers(comments)
	return p.s, nil
}

type parser struct {
	toks  []token
	pos   int
	s     *Script
	lines []string
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(off int) token {
	if p.pos+off < len(p.toks) {
		return p.toks[p.pos+off]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tokWord && t.text == s
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", t.line, fmt.Sprintf(format, args...))
}

func (p *parser) expectPunct(s string) error {
	t := p.advance()
	if t.kind != tokPunct || t.text != s {
		return p.errorf(t, "expected %q, found %v", s, t)
	}
	return nil
}

func (p *parser) expectInt() (int64, token, error) {
	t := p.advance()
	if t.kind != tokInt {
		return 0, t, p.errorf(t, "expected an integer, found %v", t)
	}
	v, err := parseInt(t.text)
	if err != nil {
		return 0, t, p.errorf(t, "bad integer %q", t.text)
	}
	return v, t, nil
}

func parseInt(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	base := 10
	if strings.HasPrefix(s, "0x") {
		s, base = s[2:], 16
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// u32 reads an integer that must fit 32 bits.
func (p *parser) u32() (uint32, error) {
	v, t, err := p.expectInt()
	if err != nil {
		return 0, err
	}
	if v < 0 || v > math.MaxUint32 {
		return 0, p.errorf(t, "%d does not fit 32 bits", v)
	}
	return uint32(v), nil
}

func (p *parser) script() error {
	for p.peek().kind == tokOption {
		t := p.advance()
		p.s.Options = append(p.s.Options, Flag{Name: t.val, Value: t.text, Line: t.line})
	}
	for p.peek().kind != tokEOF {
		t := p.peek()
		if t.kind == tokBackquote && len(p.s.Events) == 0 {
			// packetdrill's init command: a shell line before the
			// first event.
			p.advance()
			p.s.Events = append(p.s.Events, &Event{Line: t.line, Kind: TimeAbsolute, Command: t.text, Text: p.lineText(t.line)})
			continue
		}
		if t.kind == tokBackquote && p.peekAt(1).kind == tokEOF {
			// packetdrill's cleanup command: an untimed shell line
			// after the last event.
			p.advance()
			p.s.Cleanup = t.text
			continue
		}
		ev, err := p.event()
		if err != nil {
			return err
		}
		p.s.Events = append(p.s.Events, ev)
	}
	return nil
}

// lineText is the source line without its trailing comment.
func (p *parser) lineText(n int) string {
	if n < 1 || n > len(p.lines) {
		return ""
	}
	l := p.lines[n-1]
	if i := strings.Index(l, "//"); i >= 0 {
		l = l[:i]
	}
	return strings.TrimSpace(l)
}

// timeValue reads a FLOAT or INTEGER number of seconds.
func (p *parser) timeValue() (time.Duration, error) {
	t := p.advance()
	if t.kind != tokInt && t.kind != tokFloat {
		return 0, p.errorf(t, "expected a time, found %v", t)
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || f < 0 {
		return 0, p.errorf(t, "bad time %q", t.text)
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, nil
}

func (p *parser) event() (*Event, error) {
	first := p.peek()
	ev := &Event{Line: first.line, Text: p.lineText(first.line)}
	var err error
	switch {
	case p.isPunct("*"):
		p.advance()
		ev.Kind = TimeAny
	case p.isPunct("+"):
		p.advance()
		ev.Kind = TimeRelative
		if ev.Time, err = p.timeValue(); err != nil {
			return nil, err
		}
		if p.isPunct("~") {
			p.advance()
			if err := p.expectPunct("+"); err != nil {
				return nil, err
			}
			ev.Kind = TimeRelativeRange
			if ev.TimeEnd, err = p.timeValue(); err != nil {
				return nil, err
			}
		}
	case first.kind == tokInt || first.kind == tokFloat:
		ev.Kind = TimeAbsolute
		if ev.Time, err = p.timeValue(); err != nil {
			return nil, err
		}
		if p.isPunct("~") {
			p.advance()
			ev.Kind = TimeAbsoluteRange
			if ev.TimeEnd, err = p.timeValue(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, p.errorf(first, "expected an event time, found %v", first)
	}
	if (ev.Kind == TimeAbsoluteRange || ev.Kind == TimeRelativeRange) && ev.TimeEnd < ev.Time {
		return nil, p.errorf(first, "time range ends before it starts")
	}
	t := p.peek()
	switch {
	case p.isPunct("<") || p.isPunct(">"):
		ev.Packet, err = p.packet()
	case t.kind == tokBackquote:
		p.advance()
		ev.Command = t.text
	case t.kind == tokCode:
		p.advance()
		ev.Code = t.text
	case t.kind == tokEllipsis || t.kind == tokWord:
		ev.Syscall, err = p.syscall()
	default:
		return nil, p.errorf(t, "expected a packet, system call or command, found %v", t)
	}
	if err != nil {
		return nil, err
	}
	if ev.Kind == TimeAny && (ev.Packet == nil || ev.Packet.Dir != Outbound) {
		return nil, p.errorf(first, "* (any time) is only for outbound packets")
	}
	return ev, nil
}

// flagLetters maps packetdrill's flag letters to TCP control bits.
var flagLetters = map[byte]wire.Flags{
	'S': wire.FlagSYN, 'F': wire.FlagFIN, 'R': wire.FlagRST, 'P': wire.FlagPSH,
	'.': wire.FlagACK, 'U': wire.FlagURG, 'E': wire.FlagECE, 'W': wire.FlagCWR,
}

func (p *parser) packet() (*PacketSpec, error) {
	ps := &PacketSpec{Dir: Inbound}
	if p.advance().text == ">" {
		ps.Dir = Outbound
	}
	if p.isPunct("[") || p.isPunct("(") {
		// packetdrill's opt_ip_info ([ect0], (tos 0x2, ttl 64)), or
		// this runner's [conn N].
		if err := p.ipInfo(ps); err != nil {
			return nil, err
		}
	}
	if p.isWord("icmp") {
		p.advance()
		return ps, p.icmp(ps)
	}
	if p.isWord("udp") {
		return nil, p.errorf(p.peek(), "udp packets are not supported (threeway's runner speaks TCP and ICMP)")
	}
	// Flags: '-', '.', WORD, or WORD '.'.
	t := p.advance()
	var letters string
	switch {
	case t.kind == tokPunct && t.text == "-":
	case t.kind == tokPunct && t.text == ".":
		letters = "."
	case t.kind == tokWord:
		letters = t.text
		if p.isPunct(".") {
			p.advance()
			letters += "."
		}
	default:
		return nil, p.errorf(t, "expected TCP flags, found %v", t)
	}
	for i := 0; i < len(letters); i++ {
		f, ok := flagLetters[letters[i]]
		if !ok {
			return nil, p.errorf(t, "unknown TCP flag %q", letters[i])
		}
		ps.Flags |= f
	}
	// start:end(len)
	var err error
	seqTok := p.peek()
	if ps.Start, err = p.u32(); err != nil {
		return nil, err
	}
	if err := p.expectPunct(":"); err != nil {
		return nil, err
	}
	if ps.End, err = p.u32(); err != nil {
		return nil, err
	}
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	n, err := p.u32()
	if err != nil {
		return nil, err
	}
	ps.Len = int(n)
	if err := p.expectPunct(")"); err != nil {
		return nil, err
	}
	if ps.End-ps.Start != n {
		return nil, p.errorf(seqTok, "sequence range %d:%d does not hold %d bytes", ps.Start, ps.End, n)
	}
	if ps.Len > 65000 {
		return nil, p.errorf(seqTok, "payload of %d bytes is too long", ps.Len)
	}
	for {
		switch {
		case p.isWord("ack"):
			p.advance()
			if ps.Ack, err = p.u32(); err != nil {
				return nil, err
			}
			ps.HasAck = true
		case p.isWord("win"):
			p.advance()
			w, t, err := p.expectInt()
			if err != nil {
				return nil, err
			}
			if w < 0 || w > 65535 {
				return nil, p.errorf(t, "window %d does not fit 16 bits", w)
			}
			ps.Win, ps.HasWin = uint16(w), true
		case p.isWord("urg"):
			p.advance()
			if _, _, err := p.expectInt(); err != nil {
				return nil, err
			}
		case p.isPunct("<"):
			p.advance()
			if err := p.options(ps); err != nil {
				return nil, err
			}
		default:
			return ps, nil
		}
	}
}

// ipInfo reads "[...]" or "(...)" after a packet's direction.
func (p *parser) ipInfo(ps *PacketSpec) error {
	close := "]"
	if p.advance().text == "(" {
		close = ")"
	}
	ecn := map[string]uint8{"noecn": 0, "ect1": 1, "ect0": 2, "ce": 3, "ect01": 0}
	for !p.isPunct(close) {
		t := p.advance()
		switch {
		case t.kind == tokEOF:
			return p.errorf(t, "unterminated %s", map[string]string{"]": "[", ")": "("}[close])
		case t.kind == tokPunct && t.text == ",":
		case t.kind == tokWord && t.text == "conn":
			v, _, err := p.expectInt()
			if err != nil {
				return err
			}
			if v < 1 || v > 1000 {
				return p.errorf(t, "conn %d out of range", v)
			}
			ps.Conn = int(v)
		case t.kind == tokWord && t.text == "ect01":
			// Either ECT codepoint: not checked.
		case t.kind == tokWord && ecn[t.text] != 0 || t.text == "noecn":
			ps.IP.HasECN, ps.IP.ECN = true, ecn[t.text]
		case t.kind == tokWord && (t.text == "tos" || t.text == "ttl" || t.text == "flowlabel"):
			v, vt, err := p.expectInt()
			if err != nil {
				return err
			}
			if v < 0 || t.text != "flowlabel" && v > 255 || v > 0xfffff {
				return p.errorf(vt, "%s %d out of range", t.text, v)
			}
			switch t.text {
			case "tos":
				ps.IP.HasTOS, ps.IP.TOS = true, uint8(v)
			case "ttl":
				ps.IP.HasTTL, ps.IP.TTL = true, uint8(v)
			default:
				ps.IP.FlowLabel = uint32(v)
			}
		default:
			return p.errorf(t, "unknown packet attribute %v", t)
		}
	}
	p.advance()
	return nil
}

// icmp reads the rest of an ICMP packet line: TYPE [CODE] [mtu N]
// [id N] ['[' start:end(len) ']'].
func (p *parser) icmp(ps *PacketSpec) error {
	t := p.advance()
	if t.kind != tokWord {
		return p.errorf(t, "expected an ICMP type, found %v", t)
	}
	ic := &ICMPSpec{Type: t.text}
	if p.peek().kind == tokWord && p.peek().text != "mtu" && p.peek().text != "id" {
		ic.Code = p.advance().text
	}
	for p.isWord("mtu") || p.isWord("id") {
		w := p.advance().text
		v, vt, err := p.expectInt()
		if err != nil {
			return err
		}
		if v < 0 || v > 65535 {
			return p.errorf(vt, "%s %d out of range", w, v)
		}
		if w == "mtu" {
			ic.MTU = int(v)
		}
	}
	if p.isPunct("[") {
		p.advance()
		if p.isWord("udp") || p.isWord("raw") {
			return p.errorf(p.peek(), "ICMP errors about %s packets are not supported", p.peek().text)
		}
		var err error
		if ic.Start, err = p.u32(); err != nil {
			return err
		}
		if err := p.expectPunct(":"); err != nil {
			return err
		}
		if ic.End, err = p.u32(); err != nil {
			return err
		}
		if err := p.expectPunct("("); err != nil {
			return err
		}
		if _, err := p.u32(); err != nil {
			return err
		}
		if err := p.expectPunct(")"); err != nil {
			return err
		}
		if err := p.expectPunct("]"); err != nil {
			return err
		}
		ic.HasEchoed = true
	}
	if _, err := icmpTypeCode(ic, false); err != nil {
		if _, err6 := icmpTypeCode(ic, true); err6 != nil {
			return p.errorf(t, "%v", err)
		}
	}
	ps.ICMP = ic
	return nil
}

// hexBlob reads an optional hex cookie or digest after FO, FOEXP or md5.
func (p *parser) hexBlob() ([]byte, error) {
	t := p.peek()
	if t.kind != tokWord && t.kind != tokInt {
		return nil, nil
	}
	if t.kind == tokWord && (t.text == "nop" || t.text == "eol" || t.text == "mss" || t.text == "wscale" ||
		t.text == "sackOK" || t.text == "sack" || t.text == "TS" || t.text == "FO" || t.text == "FOEXP" || t.text == "md5") {
		return nil, nil
	}
	p.advance()
	h := strings.TrimPrefix(t.text, "0x")
	if len(h)%2 != 0 {
		return nil, p.errorf(t, "hex blob %q has an odd number of digits", t.text)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, p.errorf(t, "bad hex blob %q", t.text)
	}
	if len(b) > 32 {
		return nil, p.errorf(t, "hex blob %q is too long for a TCP option", t.text)
	}
	return b, nil
}

func (p *parser) options(ps *PacketSpec) error {
	if p.peek().kind == tokEllipsis {
		p.advance()
		ps.AnyOptions = true
		return p.expectPunct(">")
	}
	ps.HasOptions = true
	if p.isPunct(">") {
		p.advance()
		return nil
	}
	for {
		t := p.advance()
		if t.kind != tokWord {
			return p.errorf(t, "expected a TCP option, found %v", t)
		}
		var o Option
		var err error
		switch t.text {
		case "nop":
			o.Kind = OptNOP
		case "eol":
			o.Kind = OptEOL
		case "mss":
			o.Kind = OptMSS
			v, err := p.u32()
			if err != nil {
				return err
			}
			if v > 65535 {
				return p.errorf(t, "mss %d does not fit 16 bits", v)
			}
			o.Val = v
		case "wscale":
			o.Kind = OptWScale
			v, err := p.u32()
			if err != nil {
				return err
			}
			if v > 255 {
				return p.errorf(t, "wscale %d does not fit 8 bits", v)
			}
			o.Val = v
		case "sackOK":
			o.Kind = OptSACKOK
		case "sack":
			o.Kind = OptSACK
			for p.peek().kind == tokInt {
				a, err := p.u32()
				if err != nil {
					return err
				}
				if err := p.expectPunct(":"); err != nil {
					return err
				}
				b, err := p.u32()
				if err != nil {
					return err
				}
				o.Blocks = append(o.Blocks, [2]uint32{a, b})
			}
			if len(o.Blocks) == 0 || len(o.Blocks) > 4 {
				return p.errorf(t, "sack takes 1 to 4 blocks")
			}
		case "TS":
			o.Kind = OptTS
			if !p.isWord("val") {
				return p.errorf(p.peek(), "expected \"val\" after TS")
			}
			p.advance()
			if o.Val, err = p.u32(); err != nil {
				return err
			}
			if !p.isWord("ecr") {
				return p.errorf(p.peek(), "expected \"ecr\" after TS val")
			}
			p.advance()
			if o.Ecr, err = p.u32(); err != nil {
				return err
			}
		case "FO", "FOEXP":
			o.Kind = OptFastOpen
			if t.text == "FOEXP" {
				o.Kind = OptFastOpenExp
			}
			if o.Cookie, err = p.hexBlob(); err != nil {
				return err
			}
		case "md5":
			o.Kind = OptMD5
			if o.Cookie, err = p.hexBlob(); err != nil {
				return err
			}
		default:
			return p.errorf(t, "unsupported TCP option %q", t.text)
		}
		ps.Options = append(ps.Options, o)
		if p.isPunct(",") {
			p.advance()
			continue
		}
		return p.expectPunct(">")
	}
}

func (p *parser) syscall() (*SyscallSpec, error) {
	sc := &SyscallSpec{}
	if p.peek().kind == tokEllipsis {
		p.advance()
		end, err := p.timeValue()
		if err != nil {
			return nil, err
		}
		sc.Blocking, sc.End = true, end
	}
	name := p.advance()
	if name.kind != tokWord {
		return nil, p.errorf(name, "expected a system call name, found %v", name)
	}
	sc.Name = name.text
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	args, err := p.exprList(")")
	if err != nil {
		return nil, err
	}
	sc.Args = args
	eq := p.peek()
	if err := p.expectPunct("="); err != nil {
		return nil, err
	}
	if sc.Result, err = p.expr(); err != nil {
		return nil, err
	}
	// The errno and note follow the result on its line.
	name.line = eq.line
	if t := p.peek(); t.kind == tokWord && t.line == name.line && strings.HasPrefix(t.text, "E") {
		p.advance()
		sc.Errno = t.text
	}
	if t := p.peek(); t.kind == tokPunct && t.text == "(" && t.line == name.line {
		p.advance()
		var words []string
		depth := 1
		for depth > 0 {
			t := p.advance()
			switch {
			case t.kind == tokEOF:
				return nil, p.errorf(t, "unterminated note")
			case t.kind == tokPunct && t.text == "(":
				depth++
			case t.kind == tokPunct && t.text == ")":
				depth--
				if depth == 0 {
					continue
				}
			}
			words = append(words, t.text)
		}
		sc.Note = strings.Join(words, " ")
	}
	return sc, nil
}

// exprList reads comma-separated expressions up to the closing close.
func (p *parser) exprList(close string) ([]Expr, error) {
	var list []Expr
	if p.isPunct(close) {
		p.advance()
		return list, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if p.isPunct(",") {
			p.advance()
			continue
		}
		return list, p.expectPunct(close)
	}
}

func (p *parser) expr() (Expr, error) {
	e, err := p.primary()
	if err != nil {
		return e, err
	}
	if p.isPunct("|") {
		p.advance()
		r, err := p.expr()
		if err != nil {
			return e, err
		}
		elems := []Expr{e}
		if r.Kind == ExprOr {
			elems = append(elems, r.Elems...)
		} else {
			elems = append(elems, r)
		}
		return Expr{Kind: ExprOr, Elems: elems}, nil
	}
	return e, nil
}

func (p *parser) primary() (Expr, error) {
	t := p.advance()
	switch {
	case t.kind == tokEllipsis:
		return Expr{Kind: ExprEllipsis}, nil
	case t.kind == tokInt:
		v, err := parseInt(t.text)
		if err != nil {
			return Expr{}, p.errorf(t, "bad integer %q", t.text)
		}
		return Expr{Kind: ExprInt, Int: v}, nil
	case t.kind == tokString:
		if p.peek().kind == tokEllipsis {
			p.advance()
		}
		return Expr{Kind: ExprString, Word: t.text}, nil
	case t.kind == tokWord:
		if p.isPunct("(") {
			p.advance()
			args, err := p.exprList(")")
			if err != nil {
				return Expr{}, err
			}
			return Expr{Kind: ExprCall, Word: t.text, Elems: args}, nil
		}
		return Expr{Kind: ExprWord, Word: t.text}, nil
	case t.kind == tokPunct && t.text == "[":
		elems, err := p.exprList("]")
		if err != nil {
			return Expr{}, err
		}
		return Expr{Kind: ExprArray, Elems: elems}, nil
	case t.kind == tokPunct && t.text == "{":
		e := Expr{Kind: ExprStruct}
		if p.isPunct("}") {
			p.advance()
			return e, nil
		}
		for {
			var f Field
			if n := p.peek(); n.kind == tokWord && p.peekAt(1).kind == tokPunct && p.peekAt(1).text == "=" {
				p.advance()
				p.advance()
				f.Name = n.text
			} else if k := p.fieldCallLen(); k > 0 {
				// msghdr's msg_name(...)=... and msg_iov(N)=[...]:
				// the argument in parentheses is kept as Arg.
				p.advance()
				p.advance()
				f.Name = n.text
				if k > 3 {
					a, err := p.expr()
					if err != nil {
						return Expr{}, err
					}
					f.Arg = &a
				}
				if err := p.expectPunct(")"); err != nil {
					return Expr{}, err
				}
				if err := p.expectPunct("="); err != nil {
					return Expr{}, err
				}
			}
			v, err := p.expr()
			if err != nil {
				return Expr{}, err
			}
			f.Value = v
			e.Fields = append(e.Fields, f)
			if p.isPunct(",") {
				p.advance()
				continue
			}
			return e, p.expectPunct("}")
		}
	}
	return Expr{}, p.errorf(t, "expected an expression, found %v", t)
}

// fieldCallLen reports, at WORD '(' ... ')' '=', the number of tokens up
// to the '='; otherwise 0.
func (p *parser) fieldCallLen() int {
	if p.peek().kind != tokWord || p.peekAt(1).kind != tokPunct || p.peekAt(1).text != "(" {
		return 0
	}
	depth := 0
	for i := 1; ; i++ {
		t := p.peekAt(i)
		switch {
		case t.kind == tokEOF:
			return 0
		case t.kind == tokPunct && t.text == "(":
			depth++
		case t.kind == tokPunct && t.text == ")":
			depth--
			if depth == 0 {
				n := p.peekAt(i + 1)
				if n.kind == tokPunct && n.text == "=" {
					return i + 1
				}
				return 0
			}
		}
	}
}

// markers reads the runner's comment markers: the rule (first comment),
// linux-differs, linux-only, and linux-skip on event lines.
func (p *parser) markers(comments map[int][]string) {
	first := -1
	for line := range comments {
		if first < 0 || line < first {
			first = line
		}
	}
	if first >= 0 {
		p.s.Rule = strings.Join(comments[first], " ")
	}
	lines := make([]int, 0, len(comments))
	for line := range comments {
		lines = append(lines, line)
	}
	sort.Ints(lines)
	// A marker goes on over the comment-only lines right after it.
	more := func(line int) string {
		var parts []string
		for l := line + 1; l <= len(p.lines); l++ {
			t := strings.TrimSpace(p.lines[l-1])
			if !strings.HasPrefix(t, "//") {
				break
			}
			t = strings.TrimSpace(strings.TrimPrefix(t, "//"))
			if strings.HasPrefix(t, "linux-") || t == "" {
				break
			}
			parts = append(parts, t)
		}
		return strings.Join(parts, " ")
	}
	for _, line := range lines {
		for _, c := range comments[line] {
			if r, ok := strings.CutPrefix(c, "linux-differs:"); ok {
				p.s.LinuxDiffers = joinMarker(p.s.LinuxDiffers, joinMarker(strings.TrimSpace(r), more(line)))
			}
			if r, ok := strings.CutPrefix(c, "linux-only:"); ok {
				p.s.LinuxOnly = joinMarker(p.s.LinuxOnly, joinMarker(strings.TrimSpace(r), more(line)))
			}
		}
	}
	for _, ev := range p.s.Events {
		for _, c := range comments[ev.Line] {
			if strings.HasPrefix(c, "linux-skip") {
				ev.LinuxSkip = true
			}
			if strings.HasPrefix(c, "threeway-skip") {
				ev.ThreewaySkip = true
			}
		}
	}
}

func joinMarker(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + " " + b
}
