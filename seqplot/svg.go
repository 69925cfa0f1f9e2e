package seqplot

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Canvas size and the plot area's margins, in SVG user units (pixels).
const (
	width        = 1000
	height       = 620
	marginLeft   = 90
	marginRight  = 30
	marginTop    = 56
	marginBottom = 64
	serif        = 3 // half-width of the ticks closing each segment bar
)

// Colours of the series, tcptrace's where it has one.
const (
	colSegment = "#1f3a93"
	colRetrans = "#d62728"
	colAck     = "#b8860b"
	colWindow  = "#2ca02c"
	colSACK    = "#9467bd"
	colRTO     = "#d62728"
	colGrid    = "#e4e4e4"
	colText    = "#222"
)

// scale maps data to the plot area.
type scale struct {
	t1   time.Duration
	ymin int64
	ymax int64
}

func (s scale) x(t time.Duration) float64 {
	w := float64(width - marginLeft - marginRight)
	if s.t1 <= 0 {
		return marginLeft
	}
	return marginLeft + w*float64(t)/float64(s.t1)
}

func (s scale) y(v int64) float64 {
	h := float64(height - marginTop - marginBottom)
	if s.ymax == s.ymin {
		return float64(height - marginBottom)
	}
	return float64(height-marginBottom) - h*float64(v-s.ymin)/float64(s.ymax-s.ymin)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceStep picks a tick spacing of 1, 2 or 5 times a power of ten giving
// about n ticks over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// bounds returns the plot's extent: time from 0 to the last packet,
// sequence numbers from the lowest to the highest of every series.
func (p *Plot) bounds() scale {
	s := scale{t1: p.End, ymin: math.MaxInt64, ymax: math.MinInt64}
	see := func(v int64) {
		s.ymin = min(s.ymin, v)
		s.ymax = max(s.ymax, v)
	}
	for _, b := range p.Bars {
		see(b.Lo)
		see(b.Hi)
	}
	for _, a := range p.Acks {
		see(a.V)
	}
	if s.ymin > s.ymax {
		s.ymin, s.ymax = 0, 1
	}
	// The window's edge may run far above the data (a large window
	// and a short transfer): show it up to half the data's height
	// again, and clip the rest.
	top := s.ymax + (s.ymax-s.ymin)/2
	for _, w := range p.Window {
		s.ymax = max(s.ymax, min(w.V, top))
	}
	if s.t1 <= 0 {
		s.t1 = time.Millisecond
	}
	// A little room above and below.
	pad := max((s.ymax-s.ymin)/40, 1)
	s.ymin, s.ymax = s.ymin-pad, s.ymax+pad
	return s
}

// WriteSVG writes the plot as a standalone SVG document.
func (p *Plot) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s := p.bounds()
	pf := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	pf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	pf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n",
		width, height, width, height)
	pf(`<title>%s</title>`+"\n", html.EscapeString("time-sequence plot: "+p.Title))
	pf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	pf(`<text x="%d" y="28" font-size="16" font-weight="bold" fill="%s">%s</text>`+"\n", marginLeft, colText, html.EscapeString(p.Title))
	p.axes(pf, s)
	pf(`<clipPath id="area"><rect x="%d" y="%d" width="%d" height="%d"/></clipPath>`+"\n",
		marginLeft, marginTop, width-marginLeft-marginRight, height-marginTop-marginBottom)
	pf(`<g clip-path="url(#area)">` + "\n")
	p.window(pf, s)
	p.acks(pf, s)
	p.sacks(pf, s)
	p.bars(pf, s, false)
	p.bars(pf, s, true)
	p.rtos(pf, s)
	pf("</g>\n")
	p.legend(pf)
	pf("</svg>\n")
	return bw.Flush()
}

type printer func(format string, a ...any)

func (p *Plot) axes(pf printer, s scale) {
	x0, x1 := float64(marginLeft), float64(width-marginRight)
	y0, y1 := float64(height-marginBottom), float64(marginTop)
	pf(`<g id="axes" class="axes" stroke="%s" fill="%s">`+"\n", colText, colText)
	ms := float64(s.t1) / float64(time.Millisecond)
	step := niceStep(ms, 10)
	for v := 0.0; v <= ms+step/1e6; v += step {
		x := s.x(time.Duration(v * float64(time.Millisecond)))
		pf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", f1(x), f1(y0), f1(x), f1(y1), colGrid)
		pf(`<text x="%s" y="%s" text-anchor="middle" stroke="none">%s</text>`+"\n", f1(x), f1(y0+18), strconv.FormatFloat(v, 'f', -1, 64))
	}
	ystep := int64(niceStep(float64(s.ymax-s.ymin), 8))
	ystep = max(ystep, 1)
	for v := (s.ymin/ystep + 1) * ystep; v <= s.ymax; v += ystep {
		y := s.y(v)
		pf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", f1(x0), f1(y), f1(x1), f1(y), colGrid)
		pf(`<text x="%s" y="%s" text-anchor="end" stroke="none">%s</text>`+"\n", f1(x0-6), f1(y+4), bytesLabel(v))
	}
	pf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", f1(x0), f1(y0), f1(x1), f1(y0))
	pf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", f1(x0), f1(y0), f1(x0), f1(y1))
	pf(`<text x="%s" y="%d" text-anchor="middle" stroke="none">time since the first packet (ms)</text>`+"\n", f1((x0+x1)/2), height-18)
	pf(`<text transform="translate(18 %s) rotate(-90)" text-anchor="middle" stroke="none">sequence number, relative (bytes)</text>`+"\n", f1((y0+y1)/2))
	pf("</g>\n")
}

// bytesLabel writes v with a k or M suffix where that is shorter.
func bytesLabel(v int64) string {
	switch a := max(v, -v); {
	case a >= 10_000_000:
		return strconv.FormatFloat(float64(v)/1e6, 'f', -1, 64) + "M"
	case a >= 10_000:
		return strconv.FormatFloat(float64(v)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatInt(v, 10)
}

// steps draws a step function as one polyline, held to the plot's end.
func steps(pf printer, s scale, id, colour, dash string, st []Step) {
	pf(`<g id="%s" class="series">`+"\n", id)
	if len(st) > 0 {
		var b strings.Builder
		for i, p := range st {
			if i > 0 {
				fmt.Fprintf(&b, "%s,%s ", f1(s.x(p.T)), f1(s.y(st[i-1].V)))
			}
			fmt.Fprintf(&b, "%s,%s ", f1(s.x(p.T)), f1(s.y(p.V)))
		}
		fmt.Fprintf(&b, "%s,%s", f1(s.x(s.t1)), f1(s.y(st[len(st)-1].V)))
		extra := ""
		if dash != "" {
			extra = ` stroke-dasharray="` + dash + `"`
		}
		pf(`<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="%s"/>`+"\n", colour, extra, b.String())
	}
	pf("</g>\n")
}

func (p *Plot) acks(pf printer, s scale)   { steps(pf, s, "acks", colAck, "", p.Acks) }
func (p *Plot) window(pf printer, s scale) { steps(pf, s, "window", colWindow, "", p.Window) }

func (p *Plot) sacks(pf printer, s scale) {
	pf(`<g id="sack" class="series" stroke="%s" stroke-width="3">`+"\n", colSACK)
	for _, b := range p.SACKs {
		x := f1(s.x(b.T) + 2)
		pf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", x, f1(s.y(b.Lo)), x, f1(s.y(b.Hi)))
	}
	pf("</g>\n")
}

// bars draws the segments (retrans false) or the retransmissions.
func (p *Plot) bars(pf printer, s scale, retrans bool) {
	id, colour := "segments", colSegment
	if retrans {
		id, colour = "retransmissions", colRetrans
	}
	pf(`<g id="%s" class="series" stroke="%s" stroke-width="1.3">`+"\n", id, colour)
	for _, b := range p.Bars {
		if b.Retrans != retrans {
			continue
		}
		x, lo, hi := s.x(b.T), s.y(b.Lo), s.y(b.Hi)
		pf(`<path d="M%s %sV%sM%s %sH%sM%s %sH%s"/>`+"\n",
			f1(x), f1(lo), f1(hi),
			f1(x-serif), f1(lo), f1(x+serif),
			f1(x-serif), f1(hi), f1(x+serif))
		if b.SYN || b.FIN {
			label := "SYN"
			if b.FIN {
				label = "FIN"
			}
			pf(`<text x="%s" y="%s" font-size="11" stroke="none" fill="%s">%s</text>`+"\n", f1(x+5), f1(hi-3), colour, label)
		}
	}
	pf("</g>\n")
}

func (p *Plot) rtos(pf printer, s scale) {
	pf(`<g id="rto" class="series" stroke="%s" stroke-dasharray="4 3">`+"\n", colRTO)
	for _, t := range p.RTOs {
		x := f1(s.x(t))
		pf(`<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", x, marginTop, x, height-marginBottom)
		pf(`<text x="%s" y="%d" font-size="11" stroke="none" fill="%s">RTO</text>`+"\n", f1(s.x(t)+3), height-marginBottom-6, colRTO)
	}
	pf("</g>\n")
}

func (p *Plot) legend(pf printer) {
	items := []struct{ colour, name string }{
		{colSegment, "segment"}, {colRetrans, "retransmission"}, {colAck, "ACK"},
		{colWindow, "window edge (ACK + rwnd)"}, {colSACK, "SACK block"}, {colRTO, "RTO (inferred)"},
	}
	x := marginLeft + 16
	pf(`<g id="legend" font-size="12">` + "\n")
	pf(`<rect x="%d" y="%d" width="186" height="%d" fill="white" fill-opacity="0.85" stroke="#bbb"/>`+"\n", x-6, marginTop+4, 18*len(items)+8)
	for i, it := range items {
		y := marginTop + 18 + 18*i
		pf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", x, y-4, x+18, y-4, it.colour)
		pf(`<text x="%d" y="%d" fill="%s">%s</text>`+"\n", x+26, y, colText, it.name)
	}
	pf("</g>\n")
}
