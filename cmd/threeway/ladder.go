package main

// The ladder diagram: a recorder that hears both stacks of a conversation
// through their Tracers, and pure functions that draw what it heard the way
// textbooks draw a TCP handshake, one host per column and time flowing
// down (shown here narrower than it is):
//
//	   ms client 192.0.2.1:56461                                     server 192.0.2.2:7
//	      ═══════════════════════════╤                             ╤═══════════════════════════
//	    0 CLOSED                     │                             │ LISTEN (port 7)
//	      CLOSED → SYN-SENT          │                             │
//	                                 │── S seq 0 win 65535 len 0 ─>│
//	                                 │  <mss 1460,sackOK,...>      │
//	   10                            │                             │ LISTEN → SYN-RECEIVED
//	                                 │<─ S. seq 0 ack 1 win 65535 ─│
//
// Segments are drawn when sent; one the link lost (sent by one side, never
// received by the other) ends in an X.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// side is one of the two hosts of the diagram.
type side uint8

const (
	clientSide side = iota // drawn on the left
	serverSide             // drawn on the right
)

func (s side) other() side { return 1 - s }

// eventKind says what an event records.
type eventKind uint8

const (
	evInit  eventKind = iota // a host's starting state, shown first (Text)
	evSend                   // a segment sent (Seg)
	evRecv                   // a segment received (Seg)
	evState                  // a state change (From, To)
	evDrop                   // a segment the stack discarded (Reason, Seg if parsed)
	evNote                   // what the application did (Text)
)

// maxData is how much of a payload an event keeps, for display.
const maxData = 32

// segInfo is what the diagram needs of a segment, copied out of the
// stack's buffers.
type segInfo struct {
	Seq, Ack uint32
	Flags    wire.Flags
	Window   uint16
	Len      int // payload bytes
	Opts     wire.Options
	Data     []byte // the payload's first maxData bytes
}

// seqLen is the segment's length in sequence space.
func (s *segInfo) seqLen() uint32 {
	n := uint32(s.Len)
	if s.Flags&wire.FlagSYN != 0 {
		n++
	}
	if s.Flags&wire.FlagFIN != 0 {
		n++
	}
	return n
}

func newSegInfo(seg *tcp.Segment) *segInfo {
	if seg == nil {
		return nil
	}
	s := &segInfo{
		Seq: uint32(seg.Seq), Ack: uint32(seg.Ack), Flags: seg.Flags,
		Window: seg.Window, Len: len(seg.Payload), Opts: seg.Options,
	}
	if len(seg.Payload) > 0 {
		s.Data = append([]byte(nil), seg.Payload[:min(len(seg.Payload), maxData)]...)
	}
	return s
}

// event is one thing that happened at one host, At after the start.
type event struct {
	At     time.Duration
	Side   side
	Kind   eventKind
	Tuple  tcp.Tuple // as Side sees it: LocalAddr is Side's own address
	Seg    *segInfo
	From   tcp.State
	To     tcp.State
	Reason tcp.DropReason
	Text   string
}

// recorder collects the events of both stacks. Each stack gets its own
// Tracer (from tracer) that knows its side; all of them append here under
// one mutex, stamping events with the shared (simulated) clock.
type recorder struct {
	now     func() time.Duration
	observe func(*event) // if set, called with each event as it is recorded

	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced on every append
}

func newRecorder(now func() time.Duration) *recorder {
	return &recorder{now: now, changed: make(chan struct{})}
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.At = r.now()
	if r.observe != nil {
		r.observe(&e)
	}
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// tracer returns the Tracer for the stack drawn on side s.
func (r *recorder) tracer(s side) threeway.Tracer { return sideTracer{r, s} }

// initial records a host's starting state, drawn before anything else
// that happens at the same instant.
func (r *recorder) initial(s side, text string) { r.add(event{Side: s, Kind: evInit, Text: text}) }

// note records something the application on side s did.
func (r *recorder) note(s side, text string) { r.add(event{Side: s, Kind: evNote, Text: text}) }

// Events returns the events in drawing order: by time, then initial
// states first, then the client's before the server's, each host's in
// the order they happened. Within one host that order is causal (the
// stack serializes its work under its lock); across hosts, events at the
// same simulated instant cannot cause each other (the link has a delay),
// so putting the client's first makes the output the same on every run
// whatever order the goroutines happened to record them in.
func (r *recorder) Events() []event {
	r.mu.Lock()
	evs := slices.Clone(r.events)
	r.mu.Unlock()
	sortEvents(evs)
	return evs
}

func sortEvents(evs []event) {
	rank := func(e *event) int {
		if e.Kind == evInit {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		if ra, rb := rank(&a), rank(&b); ra != rb {
			return ra - rb
		}
		return int(a.Side) - int(b.Side)
	})
}

// waitUntil blocks until cond holds for the events recorded so far (in
// recording order) or ctx is done.
func (r *recorder) waitUntil(ctx context.Context, cond func([]event) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sideTracer is a threeway.Tracer feeding a recorder for one side. The
// stack calls it with its lock held; it only takes the recorder's lock
// and reads the clock, so it never calls back into a stack.
type sideTracer struct {
	r    *recorder
	side side
}

func (t sideTracer) Segment(dir threeway.Direction, tu tcp.Tuple, seg *tcp.Segment) {
	k := evRecv
	if dir == threeway.Outbound {
		k = evSend
	}
	t.r.add(event{Side: t.side, Kind: k, Tuple: tu, Seg: newSegInfo(seg)})
}

func (t sideTracer) StateChanged(tu tcp.Tuple, from, to tcp.State) {
	t.r.add(event{Side: t.side, Kind: evState, Tuple: tu, From: from, To: to})
}

func (t sideTracer) Dropped(tu tcp.Tuple, seg *tcp.Segment, reason tcp.DropReason) {
	t.r.add(event{Side: t.side, Kind: evDrop, Tuple: tu, Seg: newSegInfo(seg), Reason: reason})
}

// Conditions for waitUntil.

// sentSYN reports whether side s has sent a SYN.
func sentSYN(s side) func([]event) bool {
	return func(evs []event) bool {
		for i := range evs {
			e := &evs[i]
			if e.Side == s && e.Kind == evSend && e.Seg.Flags&wire.FlagSYN != 0 {
				return true
			}
		}
		return false
	}
}

// allClosed reports whether both sides opened at least one connection and
// every connection either side opened has returned to CLOSED.
func allClosed(evs []event) bool {
	var state [2]map[tcp.Tuple]tcp.State
	for i := range evs {
		e := &evs[i]
		if e.Kind != evState {
			continue
		}
		if state[e.Side] == nil {
			state[e.Side] = make(map[tcp.Tuple]tcp.State)
		}
		state[e.Side][e.Tuple] = e.To
	}
	for _, m := range state {
		if len(m) == 0 {
			return false
		}
		for _, st := range m {
			if st != tcp.Closed {
				return false
			}
		}
	}
	return true
}

// Drawing.

// Layout: time, the client's column, its lifeline, the middle where the
// arrows go, the server's lifeline and column.
const (
	lineWidth = 110
	timeWidth = 5
	colWidth  = 26 // "SYN-RECEIVED → ESTABLISHED"
	midWidth  = lineWidth - timeWidth - 1 - 2*colWidth - 4
	gapMin    = 100 * time.Millisecond // quiet stretches this long get a row of their own
)

// ANSI SGR parameters.
const (
	sgrNone    = ""
	sgrDim     = "2"
	sgrBold    = "1"
	sgrState   = "1;33"
	sgrEstab   = "1;32"
	sgrClient  = "36"
	sgrServer  = "35"
	sgrLost    = "1;31"
	sgrDrop    = "31"
	sgrRetrans = "33"
)

// ladderStyle says how to draw.
type ladderStyle struct {
	Names [2]string // column titles; default "client" and "server"
	Color bool      // ANSI colour
}

// span is a run of text in one style; a cell is a row of spans.
type span struct{ text, sgr string }

type cell []span

func (c cell) width() int {
	n := 0
	for _, s := range c {
		n += utf8.RuneCountInString(s.text)
	}
	return n
}

func (c cell) plain() string {
	var b strings.Builder
	for _, s := range c {
		b.WriteString(s.text)
	}
	return b.String()
}

func text(s, sgr string) cell { return cell{{s, sgr}} }

// row is one line of the diagram.
type row struct {
	time      string
	cols      [2]cell
	mid       cell
	dotted    bool // lifelines drawn dotted: time passes
	heading   bool // no lifelines yet
	underline bool // the heading's underline
}

func paint(color bool, sgr, s string) string {
	if !color || sgr == "" || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

func (c cell) render(b *strings.Builder, color bool, width int) {
	for _, s := range c {
		b.WriteString(paint(color, s.sgr, s.text))
	}
	if pad := width - c.width(); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad))
	}
}

func (r *row) render(color bool) string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", max(timeWidth-utf8.RuneCountInString(r.time), 0)))
	b.WriteString(paint(color, sgrDim, r.time))
	b.WriteString(" ")
	if r.underline {
		bar := strings.Repeat("═", colWidth+1)
		b.WriteString(bar + "╤" + strings.Repeat(" ", midWidth) + "╤" + bar)
		return b.String()
	}
	life := "│"
	switch {
	case r.dotted:
		life = "┆"
	case r.heading:
		life = " "
	}
	r.cols[clientSide].render(&b, color, colWidth)
	b.WriteString(" " + life)
	r.mid.render(&b, color, midWidth)
	b.WriteString(life + " ")
	r.cols[serverSide].render(&b, color, 0)
	return strings.TrimRight(b.String(), " ")
}

// formatMS formats a duration as milliseconds, with decimals only when
// needed.
func formatMS(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(int64(d/time.Millisecond), 10)
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// timeLabel formats the time column: milliseconds, or whole seconds when
// the milliseconds would not fit.
func timeLabel(d time.Duration) string {
	if s := formatMS(d); utf8.RuneCountInString(s) <= timeWidth {
		return s
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// wrap breaks s into lines of at most width runes, at spaces where it can
// (at sep, kept at the end of a line, if sep is not a space).
func wrap(s string, width int, sep string) []string {
	if utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	var parts []string
	for rest := s; rest != ""; {
		i := strings.Index(rest, sep)
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		end := i + len(sep)
		if sep == " " {
			parts = append(parts, rest[:i])
		} else {
			parts = append(parts, rest[:end])
		}
		rest = rest[end:]
	}
	var lines []string
	cur := ""
	join := ""
	if sep == " " {
		join = " "
	}
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case utf8.RuneCountInString(cur)+len(join)+utf8.RuneCountInString(p) <= width:
			cur += join + p
		default:
			lines = append(lines, cur)
			cur = p
		}
		for utf8.RuneCountInString(cur) > width { // a part longer than a line
			r := []rune(cur)
			lines = append(lines, string(r[:width]))
			cur = string(r[width:])
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// balancedWrap wraps s like wrap, into as few lines as wrap at width
// would, but with the lines as even as it can make them.
func balancedWrap(s string, width int, sep string) []string {
	lines := wrap(s, width, sep)
	if len(lines) < 2 {
		return lines
	}
	best := lines
	for w := width - 1; w > 0; w-- {
		l := wrap(s, w, sep)
		if len(l) != len(lines) {
			break
		}
		best = l
	}
	return best
}

// connKey names the sending half of a connection: the tuple as its
// sender sees it, plus the sender's side.
type connKey struct {
	side  side
	tuple tcp.Tuple
}

// numbering turns absolute sequence numbers and timestamps into the
// relative ones the diagram shows.
type numbering struct {
	isn    map[connKey]uint32 // sequence number of each half's first SYN
	tsBase map[connKey]uint32 // TSval - ms of each half's first timestamp
	order  []connKey          // halves in the order their SYN was seen
}

func newNumbering(evs []event) *numbering {
	n := &numbering{isn: map[connKey]uint32{}, tsBase: map[connKey]uint32{}}
	for i := range evs {
		e := &evs[i]
		if e.Kind != evSend {
			continue
		}
		k := connKey{e.Side, e.Tuple}
		if e.Seg.Flags&wire.FlagSYN != 0 {
			if _, ok := n.isn[k]; !ok {
				n.isn[k] = e.Seg.Seq
				n.order = append(n.order, k)
			}
		}
		if e.Seg.Opts.HasTimestamps {
			if _, ok := n.tsBase[k]; !ok {
				n.tsBase[k] = e.Seg.Opts.TSVal - uint32(e.At/time.Millisecond)
			}
		}
	}
	return n
}

func peer(k connKey) connKey { return connKey{k.side.other(), k.tuple.Reverse()} }

// seq returns v relative to the ISN of half k, or absolute if unknown.
func (n *numbering) seq(k connKey, v uint32) uint32 {
	if isn, ok := n.isn[k]; ok {
		return v - isn
	}
	return v
}

func (n *numbering) ts(k connKey, v uint32) uint32 {
	if base, ok := n.tsBase[k]; ok && v != 0 {
		return v - base
	}
	return v
}

// label is the arrow's text, tcpdump style, as fields that stay whole
// when the text must be split: flags, seq, ack, win, len.
func (n *numbering) label(k connKey, s *segInfo) []string {
	f := []string{s.Flags.String()}
	seq := n.seq(k, s.Seq)
	if s.Len > 0 {
		f = append(f, fmt.Sprintf("seq %d:%d", seq, seq+uint32(s.Len)))
	} else {
		f = append(f, fmt.Sprintf("seq %d", seq))
	}
	if s.Flags&wire.FlagACK != 0 {
		f = append(f, fmt.Sprintf("ack %d", n.seq(peer(k), s.Ack)))
	}
	return append(f, fmt.Sprintf("win %d", s.Window), fmt.Sprintf("len %d", s.Len))
}

// fitFields joins as many leading fields as fit in width (at least one)
// and returns them and the rest joined.
func fitFields(fields []string, width int) (head, rest string) {
	i := 1
	n := utf8.RuneCountInString(fields[0])
	for ; i < len(fields); i++ {
		n += 1 + utf8.RuneCountInString(fields[i])
		if n > width {
			break
		}
	}
	return strings.Join(fields[:i], " "), strings.Join(fields[i:], " ")
}

// options formats the options tcpdump style, in the order and with the
// padding they have on the wire, e.g. <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>.
// Timestamps and SACK blocks are made relative like the sequence numbers.
func (n *numbering) options(k connKey, s *segInfo) string {
	o := s.Opts
	if o.HasTimestamps {
		o.TSVal = n.ts(k, o.TSVal)
		o.TSEcr = n.ts(peer(k), o.TSEcr)
	}
	for i := 0; i < o.NumSACK && i < len(o.SACK); i++ {
		o.SACK[i].Start = n.seq(peer(k), o.SACK[i].Start)
		o.SACK[i].End = n.seq(peer(k), o.SACK[i].End)
	}
	var buf [wire.MaxOptionsLen]byte
	b := buf[:o.Encode(buf[:])]
	var parts []string
	for i := 0; i < len(b); {
		kind := b[i]
		if kind == 0 {
			parts = append(parts, "eol")
			break
		}
		if kind == 1 {
			parts = append(parts, "nop")
			i++
			continue
		}
		if i+1 >= len(b) || int(b[i+1]) < 2 || i+int(b[i+1]) > len(b) {
			parts = append(parts, "bad")
			break
		}
		body := b[i+2 : i+int(b[i+1])]
		be := func(p []byte) uint32 {
			var v uint32
			for _, c := range p {
				v = v<<8 | uint32(c)
			}
			return v
		}
		switch {
		case kind == 2 && len(body) == 2:
			parts = append(parts, fmt.Sprintf("mss %d", be(body)))
		case kind == 3 && len(body) == 1:
			parts = append(parts, fmt.Sprintf("wscale %d", body[0]))
		case kind == 4 && len(body) == 0:
			parts = append(parts, "sackOK")
		case kind == 5 && len(body)%8 == 0:
			var sb strings.Builder
			fmt.Fprintf(&sb, "sack %d ", len(body)/8)
			for j := 0; j < len(body); j += 8 {
				fmt.Fprintf(&sb, "{%d:%d}", be(body[j:j+4]), be(body[j+4:j+8]))
			}
			parts = append(parts, sb.String())
		case kind == 8 && len(body) == 8:
			parts = append(parts, fmt.Sprintf("TS val %d ecr %d", be(body[:4]), be(body[4:])))
		default:
			parts = append(parts, fmt.Sprintf("opt-%d", kind))
		}
		i += int(b[i+1])
	}
	if len(parts) == 0 {
		return ""
	}
	return "<" + strings.Join(parts, ",") + ">"
}

// matchSends reports, for each send event, whether the other side received
// it. A receive matches the latest not yet matched send of an identical
// segment (same half-connection, numbers, flags, window, length and
// timestamps), so that when a segment and its retransmission look alike,
// the earlier one is the one marked lost.
func matchSends(evs []event) []bool {
	type key struct {
		from     connKey
		seq, ack uint32
		flags    wire.Flags
		win      uint16
		n        int
		tsv, tse uint32
	}
	mk := func(from connKey, s *segInfo) key {
		return key{from, s.Seq, s.Ack, s.Flags, s.Window, s.Len, s.Opts.TSVal, s.Opts.TSEcr}
	}
	received := make([]bool, len(evs))
	pending := map[key][]int{}
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case evSend:
			k := mk(connKey{e.Side, e.Tuple}, e.Seg)
			pending[k] = append(pending[k], i)
		case evRecv:
			k := mk(connKey{e.Side.other(), e.Tuple.Reverse()}, e.Seg)
			if l := pending[k]; len(l) > 0 {
				received[l[len(l)-1]] = true
				pending[k] = l[:len(l)-1]
			}
		}
	}
	return received
}

// retransmissions reports, for each send event, whether it resends
// sequence space its side already sent on that connection. The SYN-ACK
// of a simultaneous open repeats the host's SYN but is no retransmission.
func retransmissions(evs []event) []bool {
	rtx := make([]bool, len(evs))
	next := map[connKey]uint32{}
	lastSYN := map[connKey]wire.Flags{}
	for i := range evs {
		e := &evs[i]
		if e.Kind != evSend {
			continue
		}
		k := connKey{e.Side, e.Tuple}
		n := e.Seg.seqLen()
		end := e.Seg.Seq + n
		hi, seen := next[k]
		fl := e.Seg.Flags & (wire.FlagSYN | wire.FlagACK)
		synAckAfterSyn := fl == wire.FlagSYN|wire.FlagACK && lastSYN[k] == wire.FlagSYN
		if fl&wire.FlagSYN != 0 {
			lastSYN[k] = fl
		}
		if n > 0 && seen && int32(e.Seg.Seq-hi) < 0 && !synAckAfterSyn {
			rtx[i] = true
		}
		if !seen || int32(end-hi) > 0 {
			next[k] = end
		}
	}
	return rtx
}

// arrow draws a segment across the middle: from the client's lifeline to
// the server's or back, label centred on the shaft. A lost segment's
// arrow stops short in an X.
func arrow(from side, label string, lost bool, sgr string) cell {
	const lostText = "(lost)"
	shaft := midWidth
	if lost {
		shaft = midWidth - len(lostText) - 3
	}
	// shaft = head + dashes + " " + label + " " + dashes, at least one
	// dash each side for a label of up to shaft-5 runes.
	room := shaft - 1 - 2 - utf8.RuneCountInString(label)
	a := room / 2
	b := room - a
	if from == serverSide {
		a, b = b, a
	}
	dash := func(n int) string { return strings.Repeat("─", max(n, 0)) }
	body := dash(a) + " " + label + " " + dash(b)
	switch {
	case from == clientSide && !lost:
		return text(body+">", sgr)
	case from == serverSide && !lost:
		return text("<"+body, sgr)
	case from == clientSide:
		return cell{{body, sgr}, {"X", sgrLost}, {" " + lostText, sgrLost}}
	default:
		return cell{{strings.Repeat(" ", midWidth-shaft-1-len(lostText)), sgrNone},
			{lostText + " ", sgrLost}, {"X", sgrLost}, {body, sgr}}
	}
}

// centre pads s to sit in the middle of the middle.
func centre(s string) string {
	pad := (midWidth - utf8.RuneCountInString(s)) / 2
	return strings.Repeat(" ", max(pad, 0)) + s
}

// addrPort formats a side's endpoint.
func addrPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}

// renderLadder draws evs, which must be in drawing order (see
// recorder.Events), and returns the lines without trailing newlines. It is
// a pure function of its arguments.
func renderLadder(evs []event, st ladderStyle) []string {
	names := st.Names
	if names[0] == "" {
		names[0] = "client"
	}
	if names[1] == "" {
		names[1] = "server"
	}
	num := newNumbering(evs)
	received := matchSends(evs)
	rtx := retransmissions(evs)

	var lines []string
	add := func(r row) { lines = append(lines, r.render(st.Color)) }

	// Heading: ISNs, then the two hosts.
	if len(num.order) > 0 {
		var isns []string
		for _, k := range num.order {
			isns = append(isns, fmt.Sprintf("%s %d", names[k.side], num.isn[k]))
		}
		lines = append(lines, paint(st.Color, sgrDim,
			"ISN "+strings.Join(isns, ", ")+": seq and ack below are relative to these;"))
		lines = append(lines, paint(st.Color, sgrDim,
			"TS val and ecr count each sender's milliseconds, its random offset removed."))
		lines = append(lines, "")
	}
	var title [2]string
	for s := range title {
		title[s] = names[s]
		for i := range evs {
			if e := &evs[i]; e.Side == side(s) && e.Tuple.LocalAddr.IsValid() {
				title[s] += " " + addrPort(e.Tuple.LocalAddr, e.Tuple.LocalPort)
				break
			}
		}
	}
	add(row{time: "ms", heading: true, cols: [2]cell{text(title[0], sgrBold), text(title[1], sgrBold)}})
	add(row{underline: true})

	lastTime := time.Duration(-1)
	for i := 0; i < len(evs); i++ {
		e := &evs[i]
		if e.Kind == evRecv {
			continue // drawn with its send
		}
		var r row
		if e.At != lastTime {
			if lastTime >= 0 && e.At-lastTime >= gapMin {
				add(row{dotted: true, mid: text(centre("⋯ "+formatMS(e.At-lastTime)+" ms ⋯"), sgrDim)})
			}
			r.time = timeLabel(e.At)
			lastTime = e.At
		}
		var extra []row // lines under the arrow
		switch e.Kind {
		case evInit:
			r.cols[e.Side] = text(e.Text, sgrBold)
			// Both hosts' starting states share a row.
			if j := i + 1; j < len(evs) && evs[j].Kind == evInit && evs[j].At == e.At && evs[j].Side != e.Side {
				r.cols[evs[j].Side] = text(evs[j].Text, sgrBold)
				i++
			}
		case evNote:
			r.cols[e.Side] = text(e.Text, sgrDim)
		case evState:
			sgr := sgrState
			if e.To == tcp.Established {
				sgr = sgrEstab
			}
			r.cols[e.Side] = text(e.From.String()+" → "+e.To.String(), sgr)
		case evDrop:
			msg := "drop: " + e.Reason.String()
			if e.Seg != nil {
				msg = "drop " + e.Seg.Flags.String() + ": " + e.Reason.String()
			}
			ls := wrap(msg, colWidth, " ")
			r.cols[e.Side] = text(ls[0], sgrDrop)
			for _, l := range ls[1:] {
				var x row
				x.cols[e.Side] = text(l, sgrDrop)
				extra = append(extra, x)
			}
		case evSend:
			k := connKey{e.Side, e.Tuple}
			lost := !received[i]
			sgr := sgrClient
			if e.Side == serverSide {
				sgr = sgrServer
			}
			shaft := midWidth
			if lost {
				shaft -= len("(lost)") + 3
			}
			// Fields that do not fit on the arrow go underneath.
			head, rest := fitFields(num.label(k, e.Seg), shaft-5)
			r.mid = arrow(e.Side, head, lost, sgr)
			if rtx[i] {
				r.cols[e.Side] = text("retransmission", sgrRetrans)
			}
			var details []string
			if rest != "" {
				details = append(details, rest)
			}
			if o := num.options(k, e.Seg); o != "" {
				details = append(details, balancedWrap(o, midWidth-2, ",")...)
			}
			if e.Seg.Len > 0 {
				q := strconv.Quote(string(e.Seg.Data))
				if e.Seg.Len > len(e.Seg.Data) {
					q += "…"
				}
				details = append(details, q)
			}
			for _, d := range details {
				extra = append(extra, row{mid: text(centre(d), sgrDim)})
			}
		}
		add(r)
		for _, x := range extra {
			add(x)
		}
	}
	return lines
}
