package seqplot

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	cli = netip.MustParseAddrPort("192.0.2.1:40000")
	srv = netip.MustParseAddrPort("192.0.2.2:80")
	t0  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func seg(at time.Duration, fromC bool, seq, ack uint32, fl wire.Flags, win uint16, n int, o *wire.Options) capture.Segment {
	b := make([]byte, wire.TCPSegmentLen(o, n))
	wire.EncodeTCP(b, &wire.TCPFields{Seq: seq, Ack: ack, Flags: fl, Window: win}, o, make([]byte, n))
	s := capture.Segment{Time: t0.Add(at), Src: srv, Dst: cli, TCP: wire.TCP(b), PayloadLen: n}
	if fromC {
		s.Src, s.Dst = cli, srv
	}
	return s
}

// A transfer with one loss recovered by fast retransmit (after SACKs)
// and one by a timeout.
func transfer() *ladder.Conn {
	ms := time.Millisecond
	ack := wire.FlagACK
	ws := &wire.Options{HasWScale: true, WScale: 2, SACKPermitted: true}
	sk := &wire.Options{NumSACK: 1}
	sk.SACK[0] = wire.SACKBlock{Start: 2001, End: 3001}
	segs := []capture.Segment{
		seg(0, true, 0, 0, wire.FlagSYN, 1000, 0, ws),
		seg(10*ms, false, 9000, 1, wire.FlagSYN|ack, 1000, 0, ws),
		seg(10*ms, true, 1, 9001, ack, 1000, 0, nil),
		seg(11*ms, true, 1, 9001, ack, 1000, 1000, nil),
		seg(11*ms, true, 1001, 9001, ack, 1000, 1000, nil),
		seg(11*ms, true, 2001, 9001, ack, 1000, 1000, nil),
		seg(21*ms, false, 9001, 1001, ack, 1000, 0, nil),
		seg(21*ms, false, 9001, 1001, ack, 1000, 0, sk),
		seg(22*ms, true, 1001, 9001, ack, 1000, 1000, nil), // fast retransmit
		seg(32*ms, false, 9001, 3001, ack, 1000, 0, nil),
		seg(33*ms, true, 3001, 9001, ack, 1000, 1000, nil),
		seg(1033*ms, true, 3001, 9001, ack, 1000, 1000, nil), // after a timeout
		seg(1043*ms, false, 9001, 4001, ack, 1000, 0, nil),
	}
	return ladder.Conns(segs)[0]
}

func TestFromConn(t *testing.T) {
	p := FromConn(transfer(), ladder.Client)
	var rtx []int64
	for _, b := range p.Bars {
		if b.Retrans {
			rtx = append(rtx, b.Lo)
		}
	}
	if len(p.Bars) != 7 || len(rtx) != 2 || rtx[0] != 1001 || rtx[1] != 3001 {
		t.Errorf("bars %+v", p.Bars)
	}
	if !p.Bars[0].SYN || p.Bars[0].Hi != 1 {
		t.Errorf("SYN bar %+v", p.Bars[0])
	}
	if len(p.RTOs) != 1 || p.RTOs[0] != 1033*time.Millisecond {
		t.Errorf("RTOs %v, want one at 1033ms", p.RTOs)
	}
	if len(p.SACKs) != 1 || p.SACKs[0].Lo != 2001 || p.SACKs[0].Hi != 3001 {
		t.Errorf("SACKs %+v", p.SACKs)
	}
	// The SYN-ACK's window is not scaled (RFC 7323 §2.2); later ones are, by 2.
	if p.Window[0].V != 1+1000 || p.Window[1].V != 1001+4000 {
		t.Errorf("window edges %+v", p.Window[:2])
	}
	if last := p.Acks[len(p.Acks)-1]; last.V != 4001 {
		t.Errorf("last ACK %v", last)
	}
	if p.End != 1043*time.Millisecond {
		t.Errorf("end %v", p.End)
	}
}

func TestWriteSVGIsXMLWithSeries(t *testing.T) {
	var b bytes.Buffer
	if err := FromConn(transfer(), ladder.Client).WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&b)
	ids := map[string]int{}
	cur := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		if e, ok := tok.(xml.StartElement); ok {
			if e.Name.Local == "svg" && e.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("svg element in namespace %q", e.Name.Space)
			}
			for _, a := range e.Attr {
				if e.Name.Local == "g" && a.Name.Local == "id" {
					cur = a.Value
				}
			}
			if e.Name.Local == "line" || e.Name.Local == "path" || e.Name.Local == "polyline" {
				ids[cur]++
			}
		}
	}
	want := map[string]int{"segments": 5, "retransmissions": 2, "acks": 1, "window": 1, "sack": 1, "rto": 1}
	for id, n := range want {
		if ids[id] != n {
			t.Errorf("series %s has %d shapes, want %d (all: %v)", id, ids[id], n, ids)
		}
	}
}

func TestEmptyPlot(t *testing.T) {
	var b bytes.Buffer
	p := FromConn(&ladder.Conn{}, ladder.Client)
	if err := p.WriteSVG(&b); err != nil || !strings.Contains(b.String(), "</svg>") {
		t.Errorf("empty plot: %v", err)
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ span, want float64 }{{1000, 100}, {4700, 500}, {7, 1}, {0.3, 0.05}} {
		if got := niceStep(c.span, 10); got != c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.span, got, c.want)
		}
	}
}
