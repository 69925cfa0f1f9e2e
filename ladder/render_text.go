package ladder

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/threeway-tcp/threeway/tcp"
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

// Style says how to draw.
type Style struct {
	Names [2]string // column titles; default "client" and "server"
	Color bool      // ANSI colour
	// Geometry is the layout; zero means DemoGeometry.
	Geometry Geometry
	// TimeHeading heads the time column (default "ms"); TimeLabel
	// formats it (default MSLabel of its width).
	TimeHeading string
	TimeLabel   func(time.Duration) string
	// GapMin is how long a quiet stretch must be to be folded into a
	// row of its own (default DefaultGapMin).
	GapMin time.Duration
	// Observed says the events are one observer's view, a capture's or
	// one stack's: every segment drawn was seen, so none is drawn lost,
	// and segments are also marked out of order, after a gap, duplicate
	// ACKs and SACK-bearing.
	Observed bool
}

func (st Style) withDefaults() Style {
	if st.Names[0] == "" {
		st.Names[0] = "client"
	}
	if st.Names[1] == "" {
		st.Names[1] = "server"
	}
	if st.Geometry == (Geometry{}) {
		st.Geometry = DemoGeometry
	}
	if st.TimeHeading == "" {
		st.TimeHeading = "ms"
	}
	if st.TimeLabel == nil {
		st.TimeLabel = MSLabel(st.Geometry.TimeWidth)
	}
	if st.GapMin == 0 {
		st.GapMin = DefaultGapMin
	}
	return st
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

func (r *row) render(g Geometry, color bool) string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", max(g.TimeWidth-utf8.RuneCountInString(r.time), 0)))
	b.WriteString(paint(color, sgrDim, r.time))
	b.WriteString(" ")
	if r.underline {
		bar := strings.Repeat("═", g.ColWidth+1)
		b.WriteString(bar + "╤" + strings.Repeat(" ", g.MidWidth()) + "╤" + bar)
		return b.String()
	}
	life := "│"
	switch {
	case r.dotted:
		life = "┆"
	case r.heading:
		life = " "
	}
	r.cols[Client].render(&b, color, g.ColWidth)
	b.WriteString(" " + life)
	r.mid.render(&b, color, g.MidWidth())
	b.WriteString(life + " ")
	r.cols[Server].render(&b, color, 0)
	return strings.TrimRight(b.String(), " ")
}

// Drawer turns events into lines one at a time, remembering what it
// needs of earlier ones: the numbering, what each half has sent, when
// the last row was. Render uses one for a whole diagram; a live ladder
// feeds one as events happen.
type Drawer struct {
	st       Style
	g        Geometry
	num      *numbering
	an       *analyzer
	lastTime time.Duration
}

// NewDrawer returns a Drawer for st.
func NewDrawer(st Style) *Drawer {
	st = st.withDefaults()
	return &Drawer{st: st, g: st.Geometry, num: newNumbering(), an: newAnalyzer(st.Observed), lastTime: -1}
}

func (d *Drawer) line(r row) string { return r.render(d.g, d.st.Color) }

// Title returns the two heading lines: the column titles (the style's
// names followed by what) and their underline.
func (d *Drawer) Title(what [2]string) []string {
	var title [2]cell
	for s := range title {
		t := d.st.Names[s]
		if what[s] != "" {
			t += " " + what[s]
		}
		title[s] = text(t, sgrBold)
	}
	return []string{
		d.line(row{time: d.st.TimeHeading, heading: true, cols: title}),
		d.line(row{underline: true}),
	}
}

// Draw returns the lines for e, which must not be a Recv (receptions are
// drawn with their send). second, if not nil, is a starting state of the
// other host to draw on the same row as e's.
func (d *Drawer) Draw(e, second *Event, lost bool) []string {
	d.num.learn(e)
	var lines []string
	add := func(r row) { lines = append(lines, d.line(r)) }
	var r row
	if e.At != d.lastTime {
		if d.lastTime >= 0 && e.At-d.lastTime >= d.st.GapMin {
			add(row{dotted: true, mid: text(d.g.centre("⋯ "+FormatMS((e.At-d.lastTime).Round(time.Microsecond))+" ms ⋯"), sgrDim)})
		}
		r.time = d.st.TimeLabel(e.At)
		d.lastTime = e.At
	}
	var extra []row // lines under the arrow
	colLines := func(s Side, msg, sgr string) {
		ls := wrap(msg, d.g.ColWidth, " ")
		r.cols[s] = text(ls[0], sgr)
		for _, l := range ls[1:] {
			var x row
			x.cols[s] = text(l, sgr)
			extra = append(extra, x)
		}
	}
	switch e.Kind {
	case Init:
		r.cols[e.Side] = text(e.Text, sgrBold)
		if second != nil {
			r.cols[second.Side] = text(second.Text, sgrBold)
		}
	case Note:
		colLines(e.Side, e.Text, sgrDim)
	case State:
		sgr := sgrState
		if e.To == tcp.Established {
			sgr = sgrEstab
		}
		r.cols[e.Side] = text(e.From.String()+" → "+e.To.String(), sgr)
	case Drop:
		msg := "drop: " + e.Reason.String()
		if e.Seg != nil {
			msg = "drop " + e.Seg.Flags.String() + ": " + e.Reason.String()
		}
		colLines(e.Side, msg, sgrDrop)
	case Send:
		k := e.half()
		sgr := sgrClient
		if e.Side == Server {
			sgr = sgrServer
		}
		shaft := d.g.MidWidth()
		if lost {
			shaft -= len(lostText) + 3
		}
		// Fields that do not fit on the arrow go underneath.
		head, rest := fitFields(d.num.label(k, e.Seg), shaft-5)
		r.mid = d.g.arrow(e.Side, head, lost, sgr)
		if m := d.an.mark(e).texts(); len(m) > 0 {
			colLines(e.Side, strings.Join(m, ", "), sgrRetrans)
		}
		var details []string
		if rest != "" {
			details = append(details, rest)
		}
		if o := d.num.options(k, e.Seg); o != "" {
			details = append(details, balancedWrap(o, d.g.MidWidth()-2, ",")...)
		}
		if e.Seg.Len > 0 {
			q := strconv.Quote(string(e.Seg.Data))
			if e.Seg.Len > len(e.Seg.Data) {
				q += "…"
			}
			details = append(details, q)
		}
		// Marks that took more than one line of the column share the
		// detail rows rather than adding their own.
		for i, dt := range details {
			x := row{mid: text(d.g.centre(dt), sgrDim)}
			if i < len(extra) {
				extra[i].mid = x.mid
				continue
			}
			extra = append(extra, x)
		}
	}
	add(r)
	for _, x := range extra {
		add(x)
	}
	return lines
}

// Render draws evs, which must be in drawing order (see SortEvents), and
// returns the lines without trailing newlines: a heading naming the ISNs,
// the column titles, and the events. It is a pure function of its
// arguments.
func Render(evs []Event, st Style) []string {
	d := NewDrawer(st)
	for i := range evs {
		d.num.learn(&evs[i])
	}
	var received []bool
	if !d.st.Observed {
		received = matchSends(evs)
	}

	var lines []string
	// Heading: ISNs, then the two hosts.
	if len(d.num.order) > 0 {
		var isns []string
		for _, k := range d.num.order {
			isns = append(isns, fmt.Sprintf("%s %d", d.st.Names[k.side], d.num.isn[k]))
		}
		if len(isns) <= 2 {
			lines = append(lines, paint(d.st.Color, sgrDim,
				"ISN "+strings.Join(isns, ", ")+": seq and ack below are relative to these;"))
		} else {
			// Several connections: one line of ISNs for each.
			for i := 0; i < len(isns); i += 2 {
				lines = append(lines, paint(d.st.Color, sgrDim, "ISN "+strings.Join(isns[i:min(i+2, len(isns))], ", ")+","))
			}
			lines = append(lines, paint(d.st.Color, sgrDim, "in the order the connections open: seq and ack below are relative to these;"))
		}
		if len(d.num.tsBase) > 0 {
			lines = append(lines, paint(d.st.Color, sgrDim,
				"TS val and ecr count each sender's milliseconds, its random offset removed."))
		}
		if d.st.Observed {
			lines = append(lines, paint(d.st.Color, sgrDim,
				"States are inferred from the packets: each is what that end must be in."))
		}
		lines = append(lines, "")
	}
	var what [2]string
	for s := range what {
		for i := range evs {
			if e := &evs[i]; e.Side == Side(s) && e.Tuple.LocalAddr.IsValid() {
				what[s] = netip.AddrPortFrom(e.Tuple.LocalAddr, e.Tuple.LocalPort).String()
				break
			}
		}
	}
	lines = append(lines, d.Title(what)...)
	for i := 0; i < len(evs); i++ {
		e := &evs[i]
		if e.Kind == Recv {
			continue // drawn with its send
		}
		var second *Event
		// Both hosts' starting states share a row.
		if j := i + 1; e.Kind == Init && j < len(evs) && evs[j].Kind == Init && evs[j].At == e.At && evs[j].Side != e.Side {
			second = &evs[j]
			i++
		}
		lost := e.Kind == Send && received != nil && !received[i]
		lines = append(lines, d.Draw(e, second, lost)...)
	}
	return lines
}
