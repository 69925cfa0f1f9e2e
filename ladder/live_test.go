package ladder

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// lockedBuffer is a bytes.Buffer safe for the stacks' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeNow is a clock for scripted tracer tests: each call moves 1 ms.
func fakeNow() func() time.Time {
	t := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

func TestTracerScripted(t *testing.T) {
	var out bytes.Buffer
	tr := NewTracer(&out, TracerConfig{Now: fakeNow()})
	tu := tClient // threeway is the client here
	syn := &tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535, Options: synOpts(5, 0)}
	synAck := &tcp.Segment{Seq: 9000, Ack: 1001, Flags: wire.FlagSYN | wire.FlagACK, Window: 65535, Options: synOpts(70, 5)}
	ack := &tcp.Segment{Seq: 1001, Ack: 9001, Flags: wire.FlagACK, Window: 502}
	fin := &tcp.Segment{Seq: 1001, Ack: 9001, Flags: wire.FlagFIN | wire.FlagACK, Window: 502}
	tr.StateChanged(tu, tcp.Closed, tcp.SynSent)
	tr.Segment(threeway.Outbound, tu, syn)
	tr.Segment(threeway.Inbound, tu, synAck)
	tr.StateChanged(tu, tcp.SynSent, tcp.Established)
	tr.Segment(threeway.Outbound, tu, ack)
	tr.StateChanged(tu, tcp.Established, tcp.FinWait1)
	tr.Segment(threeway.Outbound, tu, fin)
	tr.Dropped(tu, &tcp.Segment{Seq: 1, Flags: wire.FlagACK}, tcp.DropOutOfWindow)
	// Another connection, filtered out by port.
	other := tu
	other.LocalPort = 40001
	NewTracer(io.Discard, TracerConfig{Port: 7}).Segment(threeway.Outbound, other, syn)
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	t.Logf("\n%s", out.String())
	g := LiveGeometry
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
	for i, l := range lines {
		if n := len([]rune(l)); n > g.LineWidth {
			t.Errorf("line %d is %d wide", i, n)
		}
	}
	if !strings.Contains(lines[0], "threeway (this stack)") || !strings.Contains(lines[0], "peer (remote end)") {
		t.Errorf("title %q", lines[0])
	}
	if !strings.Contains(lines[2], "192.0.2.1:40000 ⇄ 192.0.2.2:7") {
		t.Errorf("connection line %q", lines[2])
	}
	if !strings.HasPrefix(lines[3], "12:00:00.001000") || col(lines[3], Client) != "CLOSED → SYN-SENT" {
		t.Errorf("first event %q", lines[3])
	}
	var mine, peers []string
	for _, l := range lines[2:] {
		if c := col(l, Client); strings.Contains(c, "→") || strings.HasPrefix(c, "drop") {
			mine = append(mine, c)
		}
		if c := col(l, Server); c != "" {
			peers = append(peers, c)
		}
	}
	if got, want := strings.Join(peers, "; "), "LISTEN (port 7); LISTEN → SYN-RECEIVED; SYN-RECEIVED → ESTABLISHED; ESTABLISHED → CLOSE-WAIT"; got != want {
		t.Errorf("peer's inferred states %q, want %q", got, want)
	}
	if got, want := strings.Join(mine, "; "), "CLOSED → SYN-SENT; SYN-SENT → ESTABLISHED; ESTABLISHED → FIN-WAIT-1; drop .: OutOfWindow"; got != want {
		t.Errorf("own states %q, want %q", got, want)
	}
	for _, s := range []string{"S seq 0 win 65535 len 0", "S. seq 0 ack 1 win 65535 len 0", "F. seq 1 ack 1 win 502 len 0"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("no %q", s)
		}
	}
}

// A live ladder of two real stacks talking over a pipe, drawn from the
// server's stack.
func TestTracerLiveStacks(t *testing.T) {
	a, b := link.Pipe(link.PipeConfig{AtoB: link.Impairments{Delay: time.Millisecond}, BtoA: link.Impairments{Delay: time.Millisecond}})
	var out lockedBuffer
	tr := NewTracer(&out, TracerConfig{Port: 7})
	cli, err := threeway.New(threeway.Options{Link: a, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv, err := threeway.New(threeway.Options{Link: b, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}, Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := srv.Listen("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := cli.DialContext(ctx, "tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*threeway.Conn)
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	io.ReadAll(c)
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "LAST-ACK → CLOSED") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s := out.String()
	t.Logf("\n%s", s)
	for _, want := range []string{
		"LISTEN → SYN-RECEIVED", "SYN-RECEIVED → ESTABLISHED", "CLOSE-WAIT → LAST-ACK", "LAST-ACK → CLOSED",
		"CLOSED → SYN-SENT", // the peer's, inferred
		`"ping"`, "S. seq 0 ack 1",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("live ladder lacks %q", want)
		}
	}
	if tr.Err() != nil {
		t.Error(tr.Err())
	}
}
