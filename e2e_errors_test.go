package threeway

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestDialRefused: a SYN to a port with no listener draws a RST, and Dial
// fails at once with ECONNREFUSED, not after SYN retransmissions.
func TestDialRefused(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	start := time.Now()
	c, err := n.client.Dial("tcp", "192.0.2.2:1")
	el := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("Dial to a closed port succeeded")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial error = %v, want ECONNREFUSED", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" || opErr.Addr.String() != "192.0.2.2:1" {
		t.Fatalf("Dial error %#v is not a dial *net.OpError for 192.0.2.2:1", err)
	}
	if el > 500*time.Millisecond {
		t.Errorf("refusal took %v; the first SYN retransmission is due at 1s", el)
	}
	if st := n.client.Stats(); st.SynRetrans != 0 || st.AttemptFails != 1 {
		t.Errorf("SynRetrans = %d, AttemptFails = %d; want 0, 1", st.SynRetrans, st.AttemptFails)
	}
	if st := n.server.Stats(); st.OutRsts != 1 {
		t.Errorf("server OutRsts = %d, want 1", st.OutRsts)
	}
	if k := n.client.numConns(); k != 0 {
		t.Errorf("client still tracks %d connections", k)
	}
}

// TestReadDeadline: a read deadline ends a blocked Read with
// os.ErrDeadlineExceeded (a net.Error whose Timeout is true); clearing it
// lets reads work again.
func TestReadDeadline(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, s := connPair(t, n, ":7")
	const d = 50 * time.Millisecond
	start := time.Now()
	c.SetReadDeadline(start.Add(d))
	nr, err := c.Read(make([]byte, 10))
	el := time.Since(start)
	if nr != 0 || !errors.Is(err, os.ErrDeadlineExceeded) || !isTimeout(err) {
		t.Fatalf("Read past deadline = %d, %v; want a timeout wrapping os.ErrDeadlineExceeded", nr, err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "read" {
		t.Errorf("deadline error %#v is not a read *net.OpError", err)
	}
	if el < d {
		t.Errorf("Read returned after %v, before the %v deadline", el, d)
	}
	// Still expired: fails at once.
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read with the deadline still past = %v", err)
	}
	// A deadline moved into the past wakes a blocked Read.
	c.SetReadDeadline(time.Time{})
	woken := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		woken <- err
	}()
	waitFor(t, 5*time.Second, "Read to block", func() bool {
		if c.readMu.TryLock() {
			c.readMu.Unlock()
			return false
		}
		return true
	})
	c.SetReadDeadline(time.Now().Add(-time.Second))
	select {
	case err := <-woken:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read woken by a past deadline = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("moving the deadline into the past did not wake Read")
	}
	// Cleared: the connection is unharmed.
	c.SetReadDeadline(time.Time{})
	mustWrite(t, s, "late")
	buf := make([]byte, 10)
	nr, err = c.Read(buf)
	if err != nil || string(buf[:nr]) != "late" {
		t.Fatalf("Read after clearing the deadline = %q, %v", buf[:nr], err)
	}
}

// TestDeadlineOnSimulatedClock: deadlines are in the stack clock's time, so
// on a simulated clock an hour-long deadline passes without an hour of
// waiting.
func TestDeadlineOnSimulatedClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testDeadlineOnSimulatedClock)
}

func testDeadlineOnSimulatedClock(t *testing.T) {
	n := newTestNet(t, netConfig{})
	c, _ := connPair(t, n, ":7")
	start := n.now()
	c.SetReadDeadline(start.Add(time.Hour))
	_, err := c.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want deadline exceeded", err)
	}
	if el := n.now().Sub(start); el < time.Hour {
		t.Fatalf("deadline fired after %v of simulated time, want 1h", el)
	}
}

// TestWriteDeadline: a peer that never reads fills its receive window and
// our send buffer; a write deadline then ends the blocked Write, which
// reports how much it queued.
func TestWriteDeadline(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, _ := connPair(t, n, ":7") // the server side never reads
	// Real time: the brief saw 100 ms fail once on a loaded machine (the
	// windows had not filled); seconds of margin make it a test of the
	// stack, not the scheduler.
	const d = 2 * time.Second
	start := time.Now()
	c.SetWriteDeadline(start.Add(d))
	big := make([]byte, 16<<20)
	nw, err := c.Write(big)
	el := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !isTimeout(err) {
		t.Fatalf("Write = %d, %v; want a timeout wrapping os.ErrDeadlineExceeded", nw, err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "write" {
		t.Errorf("deadline error %#v is not a write *net.OpError", err)
	}
	// At least our send buffer filled up (and the peer's receive window).
	if nw < tcp.DefaultConfig().SendBuffer || nw >= len(big) {
		t.Errorf("Write queued %d bytes before the deadline; want the windows full, not everything", nw)
	}
	if el < d {
		t.Errorf("Write returned after %v, before the %v deadline", el, d)
	}
	// Still expired: fails at once, queues nothing.
	if nw, err := c.Write(big); nw != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write with the deadline still past = %d, %v", nw, err)
	}
}

// TestDialContextCancel: cancelling the context while the SYN goes
// unanswered aborts the handshake; nothing is left behind and the next
// dial works.
func TestDialContextCancel(t *testing.T) {
	t.Parallel()
	var blackhole atomic.Bool
	blackhole.Store(true)
	synSeen := make(chan struct{}, 1)
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{Drop: func(pkt []byte) bool {
		if !blackhole.Load() {
			return false
		}
		if s, ok := parseSeg(pkt); ok && isSYN(s) {
			select {
			case synSeen <- struct{}{}:
			default:
			}
		}
		return true
	}}}})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		c, err := n.client.DialContext(ctx, "tcp", "192.0.2.2:7")
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case <-synSeen:
	case <-time.After(10 * time.Second):
		t.Fatal("no SYN was sent")
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("DialContext did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("DialContext error = %v, want context.Canceled", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		t.Errorf("error %#v is not a dial *net.OpError", err)
	}
	st := n.client.Stats()
	if st.CurrEstab != 0 {
		t.Errorf("CurrEstab = %d after a cancelled dial", st.CurrEstab)
	}
	if k := n.client.numConns(); k != 0 {
		t.Errorf("client still tracks %d connections after a cancelled dial", k)
	}
	blackhole.Store(false)
	if err := echoOnce(n.client, "192.0.2.2:7", []byte("after cancel")); err != nil {
		t.Fatalf("dial after the cancelled one: %v", err)
	}
	if st := n.client.Stats(); st.SynRetrans != 0 {
		t.Errorf("SynRetrans = %d: the aborted handshake kept retransmitting", st.SynRetrans)
	}
}

// TestDialSYNRetriesTimeout: with every SYN lost, Dial gives up after
// SynRetries retransmissions with ETIMEDOUT, the RTO doubling from 1 s up
// to MaxRTO. With Linux's 6 retries that is 1+2+4+8+16+32+64 = 127 s of
// simulated time; the core's default (RFC 9293 MUST-23: at least three
// minutes) is checked the same way.
func TestDialSYNRetriesTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int // 0: the default
	}{{"linux-6", 6}, {"default", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { testDialSYNRetriesTimeout(t, tc.retries) })
		})
	}
}

// testDialSYNRetriesTimeout is one case of TestDialSYNRetriesTimeout, in a
// bubble; configured is Config.SynRetries, 0 for the default.
func testDialSYNRetriesTimeout(t *testing.T, configured int) {
	def := tcp.DefaultConfig()
	retries := cmp.Or(configured, def.SynRetries)
	var want time.Duration
	for i, rto := 0, def.InitialRTO; i <= retries; i, rto = i+1, min(2*rto, def.MaxRTO) {
		want += rto
	}
	if configured == 6 && want != 127*time.Second {
		t.Fatalf("expected schedule sums to %v, not 127s", want)
	}
	n := newTestNet(t, netConfig{tcp: tcp.Config{SynRetries: configured}, pipe: link.PipeConfig{AtoB: link.Impairments{
		Drop: func(pkt []byte) bool { s, ok := parseSeg(pkt); return ok && isSYN(s) },
	}}})
	listen(t, n.server, ":7")
	start := n.now()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	el := n.now().Sub(start)
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded with every SYN dropped")
	}
	if !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("Dial error = %v, want ETIMEDOUT", err)
	}
	if el < want || el > want+time.Second {
		t.Errorf("Dial gave up after %v of simulated time, want %v", el, want)
	}
	st := n.client.Stats()
	if st.SynRetrans != uint64(retries) || st.Timeouts != 1 || st.AttemptFails != 1 {
		t.Errorf("SynRetrans = %d, Timeouts = %d, AttemptFails = %d; want %d, 1, 1", st.SynRetrans, st.Timeouts, st.AttemptFails, retries)
	}
	if k := n.client.numConns(); k != 0 {
		t.Errorf("client still tracks %d connections", k)
	}
}

// TestDialContextTimeout: a context deadline shorter than the SYN RTO ends
// the dial with a timeout error wrapping context.DeadlineExceeded.
func TestDialContextTimeout(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{
		Drop: func(pkt []byte) bool { return true },
	}}})
	const d = 100 * time.Millisecond
	start := time.Now() // before the context's clock starts
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	c, err := n.client.DialContext(ctx, "tcp", "192.0.2.2:7")
	el := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("DialContext succeeded into a black hole")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !isTimeout(err) {
		t.Fatalf("DialContext error = %v, want a timeout wrapping context.DeadlineExceeded", err)
	}
	if el < d || el > time.Second {
		t.Errorf("DialContext returned after %v, want about %v (before the SYN's 1s RTO)", el, d)
	}
	if st := n.client.Stats(); st.SynRetrans != 0 {
		t.Errorf("SynRetrans = %d", st.SynRetrans)
	}
	if k := n.client.numConns(); k != 0 {
		t.Errorf("client still tracks %d connections", k)
	}
}

// An expired deadline fails Read even when data is waiting, as in net.
func TestExpiredDeadlineBeatsBufferedData(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, _ := n.server.Listen("tcp", ":80")
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("waiting"))
		}
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 7)
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Unix(0, 0))
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	if k, err := c.Read(buf); err != nil || string(buf[:k]) != "aiting" {
		t.Fatalf("read after clearing the deadline: %q %v", buf[:k], err)
	}
}
