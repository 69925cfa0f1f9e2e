package simnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// world is two stacks on a lossy 10 ms pipe in a stepped world, with
// every packet written onto the pipe recorded per direction.
type world struct {
	net            *Net
	client, server *threeway.Stack
	mu             sync.Mutex
	sent           [2][][]byte
}

func newWorld(t *testing.T, loss float64) *world {
	t.Helper()
	w := &world{net: New(clock.NewSim(epoch))}
	record := func(dir int) func([]byte) bool {
		return func(p []byte) bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.sent[dir] = append(w.sent[dir], bytes.Clone(p))
			return false
		}
	}
	a, b := link.Pipe(link.PipeConfig{Clock: w.net.Sim, Seed: 5,
		AtoB: link.Impairments{Delay: 10 * time.Millisecond, Loss: loss, Drop: record(0)},
		BtoA: link.Impairments{Delay: 10 * time.Millisecond, Loss: loss, Drop: record(1)},
	})
	mk := func(end *link.PipeEnd, addr string, secret byte) *threeway.Stack {
		sec := [16]byte{secret}
		s, err := threeway.New(threeway.Options{Link: w.net.Join(end), Addrs: []netip.Prefix{netip.MustParsePrefix(addr)},
			Clock: w.net.Sim, TCP: tcp.Config{MSL: time.Second}, ISNSecret: &sec})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.client, w.server = mk(a, "192.0.2.1/24", 1), mk(b, "192.0.2.2/24", 2)
	t.Cleanup(func() {
		w.client.Close()
		w.server.Close()
		w.net.Stop()
	})
	return w
}

// read waits for data, EOF or an error on c.
func read(w *Waiter, c *threeway.Conn, p []byte) (int, error) {
	var k int
	var err error
	if !w.Until(func() bool {
		k, err = c.ReadNonblock(p)
		return !errors.Is(err, syscall.EAGAIN)
	}) {
		return 0, ErrStopped
	}
	return k, err
}

// echo runs a client that sends msg, half-closes and reads the echo to
// EOF, against a server that echoes, and returns what came back.
func (wd *world) echo(t *testing.T, msg string) string {
	t.Helper()
	nl, err := wd.server.Listen("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	ln := nl.(*threeway.Listener)
	defer ln.Close()
	var got strings.Builder
	client := func(w *Waiter) error {
		d := &threeway.Dialer{Stack: wd.client, Nonblock: true}
		nc, err := d.Dial("tcp", "192.0.2.2:7")
		if err != nil {
			return err
		}
		c := nc.(*threeway.Conn)
		defer c.Close()
		if !w.Until(func() bool { return c.State() != tcp.SynSent }) {
			return ErrStopped
		}
		for rest := []byte(msg); len(rest) > 0; {
			var k int
			if !w.Until(func() bool {
				k, err = c.WriteNonblock(rest)
				return !errors.Is(err, syscall.EAGAIN)
			}) {
				return ErrStopped
			}
			if err != nil {
				return err
			}
			rest = rest[k:]
		}
		if err := c.CloseWrite(); err != nil {
			return err
		}
		buf := make([]byte, 4096)
		for {
			k, err := read(w, c, buf)
			got.Write(buf[:k])
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	server := func(w *Waiter) error {
		never, cancel := context.WithCancel(context.Background())
		cancel()
		var nc net.Conn
		if !w.Until(func() bool {
			nc, err = ln.AcceptContext(never)
			return !errors.Is(err, context.Canceled)
		}) {
			return ErrStopped
		}
		if err != nil {
			return err
		}
		c := nc.(*threeway.Conn)
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			k, err := read(w, c, buf)
			if k > 0 {
				if n, werr := c.WriteNonblock(buf[:k]); werr != nil || n < k {
					return errors.New("echo did not fit the send buffer")
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	if err := wd.net.Run(time.Hour, nil, client, server); err != nil {
		t.Fatal(err)
	}
	return got.String()
}

// TestRunEchoDeterministic: an echo over a lossy link completes on the
// stepped clock, and run twice it writes the same packets, byte for byte.
func TestRunEchoDeterministic(t *testing.T) {
	msg := strings.Repeat("stepped ", 1000)
	var runs [2][2][][]byte
	for i := range runs {
		w := newWorld(t, 0.1)
		if got := w.echo(t, msg); got != msg {
			t.Fatalf("run %d: echo of %d bytes came back as %d", i, len(msg), len(got))
		}
		if st := w.client.Stats(); st.RetransSegs+st.SynRetrans == 0 && w.server.Stats().RetransSegs == 0 {
			t.Errorf("run %d: nothing retransmitted; the loss never bit", i)
		}
		w.mu.Lock()
		runs[i] = w.sent
		w.mu.Unlock()
	}
	for dir := range 2 {
		a, b := runs[0][dir], runs[1][dir]
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("direction %d: %d packets, then %d", dir, len(a), len(b))
		}
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatalf("direction %d packet %d differs", dir, i)
			}
		}
	}
}

// TestRunMovesTimeOnlyWhenIdle: a timer due later does not fire while an
// application still has work, and does once it waits.
func TestRunMovesTimeOnlyWhenIdle(t *testing.T) {
	n := New(clock.NewSim(epoch))
	fired := false
	n.Sim.AfterFunc(time.Second, func() { fired = true })
	steps := 0
	app := func(w *Waiter) error {
		// Busy for a few rounds: each step does something, then yields
		// once (its condition holds on the second look), so every round
		// made progress and the clock must stand still.
		for range 5 {
			steps++
			looked := false
			if !w.Until(func() bool {
				again := looked
				looked = true
				return again
			}) {
				return ErrStopped
			}
			if fired || !n.Sim.Now().Equal(epoch) {
				return errors.New("time moved while the application was busy")
			}
		}
		if !w.Until(func() bool { return fired }) {
			return ErrStopped
		}
		if got := n.Sim.Now().Sub(epoch); got != time.Second {
			return errors.New("woken at " + got.String())
		}
		return nil
	}
	if err := n.Run(time.Minute, nil, app); err != nil {
		t.Fatal(err)
	}
	if steps != 5 {
		t.Fatalf("%d steps", steps)
	}
}

// TestRunReportsStuckAndLimit: an application that waits for something
// that cannot happen is an error, not a hang: at once with no timer
// pending, at the limit with timers that keep re-arming.
func TestRunReportsStuckAndLimit(t *testing.T) {
	n := New(clock.NewSim(epoch))
	never := func(w *Waiter) error {
		if !w.Until(func() bool { return false }) {
			return ErrStopped
		}
		return nil
	}
	if err := n.Run(time.Minute, nil, never); err == nil || !strings.Contains(err.Error(), "no timer") {
		t.Fatalf("Run = %v, want a stuck error", err)
	}
	n.Stop()

	var tick func()
	tick = func() { n.Sim.AfterFunc(time.Second, tick) }
	tick()
	if err := n.Run(time.Minute, nil, never); err == nil || !strings.Contains(err.Error(), "not done after") {
		t.Fatalf("Run = %v, want the limit", err)
	}
	n.Stop()
	if got := n.Sim.Now().Sub(epoch); got > time.Minute {
		t.Fatalf("ran %v past a one-minute limit", got)
	}
}

// TestPortDeliverWaitsForTheStack: Deliver returns only after the stack
// has processed the packet and written its answer.
func TestPortDeliverWaitsForTheStack(t *testing.T) {
	var mu sync.Mutex
	var out [][]byte
	p := NewPort(1500, func(pkts [][]byte) error {
		mu.Lock()
		defer mu.Unlock()
		for _, q := range pkts {
			out = append(out, bytes.Clone(q))
		}
		return nil
	})
	sec := [16]byte{9}
	s, err := threeway.New(threeway.Options{Link: p, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")},
		Clock: clock.NewSim(epoch), ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Listen("tcp", ":7"); err != nil {
		t.Fatal(err)
	}
	// A SYN from a second stack's first write, captured.
	var syn []byte
	q := NewPort(1500, func(pkts [][]byte) error { syn = bytes.Clone(pkts[0]); return nil })
	c, err := threeway.New(threeway.Options{Link: q, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")},
		Clock: clock.NewSim(epoch), ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := (&threeway.Dialer{Stack: c, Nonblock: true}).Dial("tcp", "192.0.2.2:7"); err != nil {
		t.Fatal(err)
	}
	if syn == nil {
		t.Fatal("no SYN written")
	}
	for i := range 3 {
		if k, err := p.Deliver([][]byte{syn}, nil); k != 1 || err != nil {
			t.Fatalf("Deliver = %d, %v", k, err)
		}
		mu.Lock()
		got := len(out)
		mu.Unlock()
		if got != i+1 {
			t.Fatalf("after Deliver %d, the stack had written %d packets; want an answer to each SYN before Deliver returned", i+1, got)
		}
	}
	p.Close()
	if _, err := p.Deliver([][]byte{syn}, nil); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Deliver after Close = %v", err)
	}
}
