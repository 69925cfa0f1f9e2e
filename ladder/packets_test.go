package ladder

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/threeway-tcp/threeway/internal/golden"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

var (
	capC = netip.MustParseAddrPort("192.0.2.1:40000")
	capS = netip.MustParseAddrPort("192.0.2.2:80")
)

// pkt is one scripted packet of a capture.
type pkt struct {
	at       time.Duration
	fromC    bool
	seq, ack uint32
	flags    wire.Flags
	win      uint16
	data     string
	opts     *wire.Options
}

// ipPacket encodes p with wire's encoders.
func ipPacket(t *testing.T, p pkt) []byte {
	src, dst := capS, capC
	if p.fromC {
		src, dst = capC, capS
	}
	n := wire.TCPSegmentLen(p.opts, len(p.data))
	b := make([]byte, wire.IPv4HeaderLen+n)
	wire.EncodeIPv4(b, &wire.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: n})
	f := wire.TCPFields{SrcPort: src.Port(), DstPort: dst.Port(), Seq: p.seq, Ack: p.ack, Flags: p.flags, Window: p.win}
	if wire.EncodeTCP(b[wire.IPv4HeaderLen:], &f, p.opts, []byte(p.data)) != n {
		t.Fatal("EncodeTCP")
	}
	return b
}

// captureOf writes the packets with link.PcapWriter and reads them back
// with the capture package: the ladder sees what a file would give it.
func captureOf(t *testing.T, pkts []pkt) []capture.Segment {
	var buf bytes.Buffer
	w, err := link.NewPcapWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, p := range pkts {
		w.WritePacket(t0.Add(p.at), ipPacket(t, p))
	}
	raw, err := capture.ReadAll(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var segs []capture.Segment
	for _, r := range raw {
		s, err := capture.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
	}
	return segs
}

func sackOpt(blocks ...wire.SACKBlock) *wire.Options {
	o := &wire.Options{NumSACK: len(blocks)}
	copy(o.SACK[:], blocks)
	return o
}

// lossyTransfer is a capture taken at the client: the second of four
// segments is lost beyond the capture point, the server's duplicate ACKs
// carry SACK blocks, the client retransmits; then two of the server's
// segments arrive swapped, and both ends close.
func lossyTransfer() []pkt {
	const c, s = 1000, 50000
	ms := time.Millisecond
	ack := wire.FlagACK
	synO := &wire.Options{HasMSS: true, MSS: 1000, SACKPermitted: true, HasWScale: true, WScale: 7}
	d := strings.Repeat("a", 1000)
	return []pkt{
		{0, true, c, 0, wire.FlagSYN, 64240, "", synO},
		{10 * ms, false, s, c + 1, wire.FlagSYN | ack, 65160, "", synO},
		{10 * ms, true, c + 1, s + 1, ack, 502, "", nil},
		{11 * ms, true, c + 1, s + 1, ack, 502, d, nil},
		{11 * ms, true, c + 1001, s + 1, ack, 502, d, nil},
		{11 * ms, true, c + 2001, s + 1, ack, 502, d, nil},
		{11 * ms, true, c + 3001, s + 1, ack | wire.FlagPSH, 502, d, nil},
		{21 * ms, false, s + 1, c + 1001, ack, 507, "", nil},
		{21 * ms, false, s + 1, c + 1001, ack, 507, "", sackOpt(wire.SACKBlock{Start: c + 2001, End: c + 3001})},
		{21 * ms, false, s + 1, c + 1001, ack, 507, "", sackOpt(wire.SACKBlock{Start: c + 2001, End: c + 4001})},
		{22 * ms, true, c + 1001, s + 1, ack, 502, d, nil},
		{32 * ms, false, s + 1, c + 4001, ack, 530, "", nil},
		{240 * ms, false, s + 6, c + 4001, ack | wire.FlagPSH, 530, "world", nil},
		{240 * ms, false, s + 1, c + 4001, ack, 530, "hello", nil},
		{240 * ms, true, c + 4001, s + 11, ack, 502, "", nil},
		{250 * ms, true, c + 4001, s + 11, wire.FlagFIN | ack, 502, "", nil},
		{260 * ms, false, s + 11, c + 4002, wire.FlagFIN | ack, 530, "", nil},
		{260 * ms, true, c + 4002, s + 12, ack, 502, "", nil},
	}
}

func TestConnsSplitsTuplesAndReuse(t *testing.T) {
	p := lossyTransfer()
	// The same tuple again with a new ISN, then an unrelated
	// mid-connection flow whose lower port is the server's.
	again := pkt{300 * time.Millisecond, true, 777, 0, wire.FlagSYN, 64240, "", nil}
	segs := captureOf(t, append(p, again))
	conns := Conns(segs)
	if len(conns) != 2 || len(conns[0].Segs) != len(p) || len(conns[1].Segs) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	if c.Client != capC || c.Server != capS || !c.SYN || !c.FIN || c.RST {
		t.Errorf("conn 0: %v -> %v syn %v fin %v rst %v", c.Client, c.Server, c.SYN, c.FIN, c.RST)
	}
	if c.Bytes[Client] != 5000 || c.Bytes[Server] != 10 {
		t.Errorf("bytes %v", c.Bytes)
	}
	// Without a SYN the higher port is taken for the client.
	mid := captureOf(t, []pkt{{0, false, 5, 6, wire.FlagACK, 9, "x", nil}})
	if c := Conns(mid)[0]; c.Client != capC || c.SYN {
		t.Errorf("mid-connection flow: client %v syn %v", c.Client, c.SYN)
	}
}

func TestLadderOfCapture(t *testing.T) {
	conns := Conns(captureOf(t, lossyTransfer()))
	lines := Render(conns[0].Events(), CaptureStyle(false))
	out := strings.Join(lines, "\n") + "\n"
	t.Logf("\n%s", out)
	golden(t, "lossy-capture.golden", []byte(out))

	g := CaptureGeometry
	col := func(l string, s Side) string {
		r := []rune(l)
		if s == Client {
			if len(r) < g.LeftLife() {
				return ""
			}
			return strings.TrimSpace(string(r[g.TimeWidth+1 : g.LeftLife()]))
		}
		if len(r) <= g.RightLife()+1 {
			return ""
		}
		return strings.TrimSpace(string(r[g.RightLife()+1:]))
	}
	var marks [2][]string
	var states [2][]string
	body := 0
	for i, l := range lines {
		if strings.Contains(l, "═") {
			body = i + 1
		}
	}
	for _, l := range lines[body:] {
		if n := len([]rune(l)); n > g.LineWidth {
			t.Errorf("line %d wide: %q", n, l)
		}
		for s := range 2 {
			c := col(l, Side(s))
			switch {
			case strings.Contains(c, " → "):
				states[s] = append(states[s], c)
			case c != "" && !strings.Contains(c, "═") && !strings.HasPrefix(c, "client") && !strings.HasPrefix(c, "server"):
				marks[s] = append(marks[s], c)
			}
		}
		if strings.Contains(l, "(lost)") {
			t.Errorf("a capture shows a segment lost: %q", l)
		}
	}
	want := [2]string{
		"CLOSED; retransmission",
		"LISTEN (port 80); dup ACK #1, SACK (1); dup ACK #2, SACK (1); previous segment not seen; out of order",
	}
	for s := range 2 {
		if got := strings.Join(marks[s], "; "); got != want[s] {
			t.Errorf("%v marks %q, want %q", Side(s), got, want[s])
		}
	}
	wantStates := [2]string{
		"CLOSED → SYN-SENT; SYN-SENT → ESTABLISHED; ESTABLISHED → FIN-WAIT-1; FIN-WAIT-1 → FIN-WAIT-2; FIN-WAIT-2 → TIME-WAIT",
		"LISTEN → SYN-RECEIVED; SYN-RECEIVED → ESTABLISHED; ESTABLISHED → CLOSE-WAIT; CLOSE-WAIT → LAST-ACK; LAST-ACK → CLOSED",
	}
	for s := range 2 {
		if got := strings.Join(states[s], "; "); got != wantStates[s] {
			t.Errorf("%v states %q, want %q", Side(s), got, wantStates[s])
		}
	}
	for _, s := range []string{"sack 1 {2001:3001}", "sack 1 {2001:4001}", "⋯ 208 ms ⋯", `"world"`, "P. seq 1001:2001"[3:]} {
		if !strings.Contains(out, s) {
			t.Errorf("ladder lacks %q", s)
		}
	}
}

// A capture that starts after the handshake: both ends assumed
// established, numbers absolute.
func TestLadderOfCaptureMidConnection(t *testing.T) {
	p := lossyTransfer()[7:]
	lines := Render(Conns(captureOf(t, p))[0].Events(), CaptureStyle(false))
	out := strings.Join(lines, "\n")
	if strings.Count(out, "ESTABLISHED (assumed)") != 2 || strings.Contains(out, "ISN") {
		t.Errorf("mid-connection ladder:\n%s", out)
	}
	if !strings.Contains(out, "ESTABLISHED → CLOSE-WAIT") {
		t.Errorf("no inferred close:\n%s", out)
	}
}

func TestInferReset(t *testing.T) {
	// A SYN answered by a reset: no listener.
	p := []pkt{
		{0, true, 1000, 0, wire.FlagSYN, 64240, "", nil},
		{time.Millisecond, false, 0, 1001, wire.FlagRST | wire.FlagACK, 0, "", nil},
	}
	out := strings.Join(Render(Conns(captureOf(t, p))[0].Events(), CaptureStyle(false)), "\n")
	if !strings.Contains(out, "SYN-SENT → CLOSED") || strings.Contains(out, "LISTEN") {
		t.Errorf("refused connection:\n%s", out)
	}
}
