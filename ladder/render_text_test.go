package ladder

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	tClient = tcp.Tuple{
		LocalAddr: netip.MustParseAddr("192.0.2.1"), LocalPort: 40000,
		RemoteAddr: netip.MustParseAddr("192.0.2.2"), RemotePort: 7,
	}
	tServer = tClient.Reverse()
)

const msec = time.Millisecond

func synOpts(tsv, tse uint32) wire.Options {
	return wire.Options{
		HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true,
		HasTimestamps: true, TSVal: tsv, TSEcr: tse,
	}
}

func tsOpts(tsv, tse uint32) wire.Options {
	return wire.Options{HasTimestamps: true, TSVal: tsv, TSEcr: tse}
}

func sendAt(at time.Duration, s Side, seg Seg) Event {
	t := tClient
	if s == Server {
		t = tServer
	}
	return Event{At: at, Side: s, Kind: Send, Tuple: t, Seg: &seg}
}

// recvAt is the arrival of seg, sent by the other side, at side s.
func recvAt(at time.Duration, s Side, seg Seg) Event {
	e := sendAt(at, s, seg)
	e.Kind = Recv
	return e
}

func stateAt(at time.Duration, s Side, from, to tcp.State) Event {
	t := tClient
	if s == Server {
		t = tServer
	}
	return Event{At: at, Side: s, Kind: State, Tuple: t, From: from, To: to}
}

// handshake is a hand-built conversation: the client's first SYN is lost,
// the retransmission gets through, the server answers, the client ACKs
// and sends data, and the server drops a stray segment.
func handshake() []Event {
	const isnC, isnS = 1000, 5000000
	syn := Seg{Seq: isnC, Flags: wire.FlagSYN, Window: 65535, Opts: synOpts(777, 0)}
	syn2 := Seg{Seq: isnC, Flags: wire.FlagSYN, Window: 65535, Opts: synOpts(1777, 0)}
	synAck := Seg{Seq: isnS, Ack: isnC + 1, Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
		Opts: synOpts(90010, 1777)}
	ack := Seg{Seq: isnC + 1, Ack: isnS + 1, Flags: wire.FlagACK, Window: 502, Opts: tsOpts(1797, 90010)}
	data := Seg{Seq: isnC + 1, Ack: isnS + 1, Flags: wire.FlagACK | wire.FlagPSH, Window: 502,
		Len: 5, Data: []byte("hello"), Opts: tsOpts(1797, 90010)}
	stray := Seg{Seq: 1, Ack: 1, Flags: wire.FlagACK, Window: 9}
	return []Event{
		{At: 0, Side: Client, Kind: Init, Text: "CLOSED"},
		{At: 0, Side: Server, Kind: Init, Text: "LISTEN"},
		{At: 0, Side: Client, Kind: Note, Text: "Dial()"},
		stateAt(0, Client, tcp.Closed, tcp.SynSent),
		sendAt(0, Client, syn),
		sendAt(1000*msec, Client, syn2),
		recvAt(1010*msec, Server, syn2),
		stateAt(1010*msec, Server, tcp.Listen, tcp.SynReceived),
		sendAt(1010*msec, Server, synAck),
		recvAt(1020*msec, Client, synAck),
		stateAt(1020*msec, Client, tcp.SynSent, tcp.Established),
		sendAt(1020*msec, Client, ack),
		sendAt(1020*msec, Client, data),
		recvAt(1030*msec, Server, ack),
		recvAt(1030*msec, Server, data),
		stateAt(1030*msec, Server, tcp.SynReceived, tcp.Established),
		{At: 1030 * msec, Side: Server, Kind: Drop, Tuple: tServer, Seg: &stray, Reason: tcp.DropOutOfWindow},
	}
}

// Column positions of an uncoloured line.
var (
	timeWidth = DemoGeometry.TimeWidth
	colWidth  = DemoGeometry.ColWidth
	lineWidth = DemoGeometry.LineWidth
	leftLife  = DemoGeometry.LeftLife()
	rightLife = DemoGeometry.RightLife()
)

func runesOf(s string) []rune { return []rune(s) }

func leftCol(line string) string {
	r := runesOf(line)
	if len(r) < leftLife {
		return ""
	}
	return strings.TrimSpace(string(r[timeWidth+1 : leftLife]))
}

func midCol(line string) string {
	r := runesOf(line)
	if len(r) <= rightLife {
		return ""
	}
	return string(r[leftLife+1 : rightLife])
}

func rightCol(line string) string {
	r := runesOf(line)
	if len(r) <= rightLife+1 {
		return ""
	}
	return strings.TrimSpace(string(r[rightLife+1:]))
}

func timeCol(line string) string {
	r := runesOf(line)
	return strings.TrimSpace(string(r[:min(len(r), timeWidth)]))
}

// findLine returns the index of the first line at or after from containing s.
func findLine(t *testing.T, lines []string, from int, s string) int {
	t.Helper()
	for i := from; i < len(lines); i++ {
		if strings.Contains(lines[i], s) {
			return i
		}
	}
	t.Fatalf("no line after %d contains %q in\n%s", from, s, strings.Join(lines, "\n"))
	return -1
}

func TestLadderRendersHandshake(t *testing.T) {
	lines := Render(handshake(), Style{})
	out := strings.Join(lines, "\n")
	t.Logf("\n%s", out)
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > lineWidth {
			t.Errorf("line %d is %d columns wide: %q", i, n, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("line %d has ANSI escapes without Color", i)
		}
	}

	findLine(t, lines, 0, "ISN client 1000, server 5000000")
	head := findLine(t, lines, 0, "client 192.0.2.1:40000")
	if !strings.Contains(lines[head], "server 192.0.2.2:7") {
		t.Errorf("heading %q lacks the server", lines[head])
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[head]), "ms") {
		t.Errorf("heading %q lacks the time column", lines[head])
	}

	// Both starting states share the first row.
	i := findLine(t, lines, head, "CLOSED")
	if leftCol(lines[i]) != "CLOSED" || rightCol(lines[i]) != "LISTEN" || timeCol(lines[i]) != "0" {
		t.Errorf("first row %q: want CLOSED | LISTEN at 0", lines[i])
	}
	i = findLine(t, lines, i, "CLOSED → SYN-SENT")
	if leftCol(lines[i]) != "CLOSED → SYN-SENT" {
		t.Errorf("client state not in the client's column: %q", lines[i])
	}

	// The lost SYN: left to right, ending in X (lost), options below.
	i = findLine(t, lines, i, "S seq 0 win 65535 len 0")
	m := midCol(lines[i])
	if !strings.HasPrefix(m, "──") || !strings.Contains(m, "─X (lost)") || strings.Contains(m, ">") {
		t.Errorf("lost SYN arrow = %q", m)
	}
	if !strings.Contains(lines[i+1], "<mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>") {
		t.Errorf("SYN options line = %q", lines[i+1])
	}
	gap := findLine(t, lines, i, "⋯ 1000 ms ⋯")
	if !strings.Contains(lines[gap], "┆") {
		t.Errorf("gap row %q has no dotted lifelines", lines[gap])
	}

	// The retransmitted SYN arrives: a full arrow, marked on the client.
	i = findLine(t, lines, gap, "S seq 0 win 65535 len 0")
	m = midCol(lines[i])
	if !strings.HasSuffix(m, "──>") || strings.Contains(m, "lost") {
		t.Errorf("retransmitted SYN arrow = %q", m)
	}
	if leftCol(lines[i]) != "retransmission" || timeCol(lines[i]) != "1000" {
		t.Errorf("retransmitted SYN row = %q", lines[i])
	}
	if !strings.Contains(strings.Join(lines[i+1:i+3], " "), "TS val 1000 ecr 0") {
		t.Errorf("retransmitted SYN's timestamp not relative: %q", lines[i+1:i+3])
	}

	// The server's Side at 1010.
	i = findLine(t, lines, i, "LISTEN → SYN-RECEIVED")
	if rightCol(lines[i]) != "LISTEN → SYN-RECEIVED" || leftCol(lines[i]) != "" || timeCol(lines[i]) != "1010" {
		t.Errorf("server state row = %q", lines[i])
	}
	i = findLine(t, lines, i, "S. seq 0 ack 1 win 65535 len 0")
	m = midCol(lines[i])
	if !strings.HasPrefix(m, "<──") || !strings.HasSuffix(m, "─") || strings.Contains(m, "lost") {
		t.Errorf("SYN-ACK arrow = %q", m)
	}
	if rightCol(lines[i]) != "" {
		t.Errorf("SYN-ACK marked %q", rightCol(lines[i]))
	}
	if !strings.Contains(strings.Join(lines[i+1:i+3], " "), "TS val 1010 ecr 1000") {
		t.Errorf("SYN-ACK options: %q", lines[i+1:i+3])
	}

	i = findLine(t, lines, i, "SYN-SENT → ESTABLISHED")
	if leftCol(lines[i]) != "SYN-SENT → ESTABLISHED" || timeCol(lines[i]) != "1020" {
		t.Errorf("client established row = %q", lines[i])
	}
	i = findLine(t, lines, i, ". seq 1 ack 1 win 502 len 0")
	if !strings.HasSuffix(midCol(lines[i]), ">") || timeCol(lines[i]) != "" {
		t.Errorf("ACK row = %q", lines[i])
	}
	if !strings.Contains(lines[i+1], "<nop,nop,TS val 1020 ecr 1010>") {
		t.Errorf("ACK options = %q", lines[i+1])
	}
	i = findLine(t, lines, i, "P. seq 1:6 ack 1 win 502 len 5")
	if !strings.Contains(lines[i+2], `"hello"`) {
		t.Errorf("payload line = %q", lines[i+2])
	}
	i = findLine(t, lines, i, "SYN-RECEIVED → ESTABLISHED")
	if rightCol(lines[i]) != "SYN-RECEIVED → ESTABLISHED" {
		t.Errorf("server established row = %q", lines[i])
	}
	i = findLine(t, lines, i, "drop .: OutOfWindow")
	if rightCol(lines[i]) != "drop .: OutOfWindow" {
		t.Errorf("drop row = %q", lines[i])
	}
}

func TestLadderServerLossAndColour(t *testing.T) {
	evs := handshake()
	// Take away the client's receipt of the SYN-ACK: now it was lost.
	for i := range evs {
		if evs[i].Kind == Recv && evs[i].Side == Client {
			evs = append(evs[:i], evs[i+1:]...)
			break
		}
	}
	lines := Render(evs, Style{})
	i := findLine(t, lines, 0, "S. seq 0 ack 1")
	m := midCol(lines[i])
	if !strings.Contains(m, "(lost) X─") || strings.Contains(m, "<") {
		t.Errorf("lost SYN-ACK arrow = %q", m)
	}

	colour := Render(evs, Style{Color: true})
	if len(colour) != len(lines) {
		t.Fatalf("colour output has %d lines, plain %d", len(colour), len(lines))
	}
	joined := strings.Join(colour, "\n")
	if !strings.Contains(joined, "\x1b[") {
		t.Error("no ANSI escapes with Color")
	}
	// Stripped of escapes, the coloured diagram is the plain one.
	if got := stripANSI(joined); got != strings.Join(lines, "\n") {
		t.Errorf("coloured diagram differs from plain:\n%s", got)
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestSortEvents(t *testing.T) {
	evs := []Event{
		{At: 10, Side: Server, Kind: Note, Text: "s1"},
		{At: 10, Side: Client, Kind: Note, Text: "c1"},
		{At: 10, Side: Server, Kind: Note, Text: "s2"},
		{At: 0, Side: Server, Kind: Note, Text: "s0"},
		{At: 0, Side: Server, Kind: Init, Text: "init-s"},
		{At: 10, Side: Client, Kind: Note, Text: "c2"},
	}
	SortEvents(evs)
	var got []string
	for _, e := range evs {
		got = append(got, e.Text)
	}
	if want := "init-s s0 c1 c2 s1 s2"; strings.Join(got, " ") != want {
		t.Errorf("order = %v, want %s", got, want)
	}
}

func TestOptionsFormat(t *testing.T) {
	n := newNumbering()
	k := half{Client, tClient}
	n.isn[k.peer()] = 100
	s := &Seg{Opts: wire.Options{HasTimestamps: true, TSVal: 7, TSEcr: 9, NumSACK: 2}}
	s.Opts.SACK[0] = wire.SACKBlock{Start: 111, End: 121}
	s.Opts.SACK[1] = wire.SACKBlock{Start: 131, End: 141}
	want := "<nop,nop,TS val 7 ecr 9,nop,nop,sack 2 {11:21}{31:41}>"
	if got := n.options(k, s); got != want {
		t.Errorf("options = %q, want %q", got, want)
	}
	if got := n.options(k, &Seg{}); got != "" {
		t.Errorf("no options = %q", got)
	}
}

func TestWrap(t *testing.T) {
	o := "<mss 1460,sackOK,TS val 1010 ecr 0,nop,wscale 7>"
	got := balancedWrap(o, 46, ",")
	if len(got) != 2 || strings.Join(got, "") != o {
		t.Fatalf("balancedWrap = %q", got)
	}
	for _, l := range got {
		if utf8.RuneCountInString(l) > 46 {
			t.Errorf("line %q too long", l)
		}
	}
	if got := wrap("drop F.: ChallengeAckRateLimited", colWidth, " "); len(got) != 2 ||
		got[0] != "drop F.:" || got[1] != "ChallengeAckRateLimited" {
		t.Errorf("wrap = %q", got)
	}
	if got := wrap(strings.Repeat("x", 30), 26, " "); len(got) != 2 || len(got[0]) != 26 {
		t.Errorf("wrap of a long word = %q", got)
	}
}

func TestTimeLabel(t *testing.T) {
	if got := MSLabel(5)(99999 * msec); got != "99999" {
		t.Errorf("MSLabel(5)(99999 msec) = %q", got)
	}
	if got := MSLabel(5)(123456 * msec); got != "123s" {
		t.Errorf("MSLabel(5)(123456 msec) = %q", got)
	}
}

func TestFormatMS(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 10 * msec: "10", 2060 * msec: "2060", 1500 * time.Microsecond: "1.5",
	} {
		if got := FormatMS(d); got != want {
			t.Errorf("FormatMS(%v) = %q, want %q", d, got, want)
		}
	}
}
