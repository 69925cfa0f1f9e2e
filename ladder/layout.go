package ladder

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Geometry is the width of a diagram's columns, in runes: time, the
// client's column, its lifeline, the middle where the arrows go, the
// server's lifeline and column.
type Geometry struct {
	TimeWidth int
	ColWidth  int // "SYN-RECEIVED → ESTABLISHED" is 26
	LineWidth int
}

// DemoGeometry is the demo's layout: milliseconds of simulated time in
// five columns, and lines that fit in 110.
var DemoGeometry = Geometry{TimeWidth: 5, ColWidth: 26, LineWidth: 110}

// MidWidth is the width of the middle, between the two lifelines.
func (g Geometry) MidWidth() int { return g.LineWidth - g.TimeWidth - 1 - 2*g.ColWidth - 4 }

// LeftLife and RightLife are the rune offsets of the two lifelines.
func (g Geometry) LeftLife() int  { return g.TimeWidth + 1 + g.ColWidth + 1 }
func (g Geometry) RightLife() int { return g.LeftLife() + 1 + g.MidWidth() }

// DefaultGapMin is how long a quiet stretch must be to get a row of its own.
const DefaultGapMin = 100 * time.Millisecond

// FormatMS formats a duration as milliseconds, with decimals only when
// needed.
func FormatMS(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(int64(d/time.Millisecond), 10)
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

// MSLabel returns a time-column formatter for a column width runes wide:
// milliseconds, or whole seconds when the milliseconds would not fit.
func MSLabel(width int) func(time.Duration) string {
	return func(d time.Duration) string {
		if s := FormatMS(d); utf8.RuneCountInString(s) <= width {
			return s
		}
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
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

const lostText = "(lost)"

// arrow draws a segment across the middle: from the client's lifeline to
// the server's or back, label centred on the shaft. A lost segment's
// arrow stops short in an X.
func (g Geometry) arrow(from Side, label string, lost bool, sgr string) cell {
	mid := g.MidWidth()
	shaft := mid
	if lost {
		shaft = mid - len(lostText) - 3
	}
	// shaft = head + dashes + " " + label + " " + dashes, at least one
	// dash each side for a label of up to shaft-5 runes.
	room := shaft - 1 - 2 - utf8.RuneCountInString(label)
	a := room / 2
	b := room - a
	if from == Server {
		a, b = b, a
	}
	dash := func(n int) string { return strings.Repeat("─", max(n, 0)) }
	body := dash(a) + " " + label + " " + dash(b)
	switch {
	case from == Client && !lost:
		return text(body+">", sgr)
	case from == Server && !lost:
		return text("<"+body, sgr)
	case from == Client:
		return cell{{body, sgr}, {"X", sgrLost}, {" " + lostText, sgrLost}}
	default:
		return cell{{strings.Repeat(" ", mid-shaft-1-len(lostText)), sgrNone},
			{lostText + " ", sgrLost}, {"X", sgrLost}, {body, sgr}}
	}
}

// centre pads s to sit in the middle of the middle.
func (g Geometry) centre(s string) string {
	pad := (g.MidWidth() - utf8.RuneCountInString(s)) / 2
	return strings.Repeat(" ", max(pad, 0)) + s
}
