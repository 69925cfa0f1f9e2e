package threeway

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// connPair dials from the client stack to a fresh listener on the server
// stack and returns both ends.
func connPair(t testing.TB, n *testNet, address string) (client, server *Conn) {
	t.Helper()
	l := listen(t, n.server, address)
	type accepted struct {
		c   net.Conn
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		// A watchdog: a handshake the server never completes (say its
		// half of it timed out while the client's succeeded) must fail
		// the test, not hang it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := l.AcceptContext(ctx)
		acc <- accepted{c, err}
	}()
	dst := strings.Replace(address, ":", "192.0.2.2:", 1)
	c, err := n.client.Dial("tcp", dst)
	if err != nil {
		t.Fatal(err)
	}
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	t.Cleanup(func() { c.Close(); a.c.Close() })
	return c.(*Conn), a.c.(*Conn)
}

func readAllString(t testing.TB, c net.Conn) string {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return string(b)
}

func mustWrite(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("Write(%q): %v", s, err)
	}
}

func waitState(t testing.TB, c *Conn, want tcp.State) {
	t.Helper()
	waitFor(t, 10*time.Second, "state "+want.String(), func() bool { return c.State() == want })
}

// TestHalfCloseClientWrites: the client half-closes after its request; the
// server reads EOF, still writes its reply, then closes.
func TestHalfCloseClientWrites(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, s := connPair(t, n, ":7")
	mustWrite(t, c, "request")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("more")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write after CloseWrite = %v, want EPIPE", err)
	}
	if got := readAllString(t, s); got != "request" {
		t.Fatalf("server read %q", got)
	}
	if st := s.State(); st != tcp.CloseWait {
		t.Errorf("server state after reading EOF = %v, want CLOSE-WAIT", st)
	}
	waitState(t, c, tcp.FinWait2)
	mustWrite(t, s, "reply after EOF")
	mustWrite(t, s, ", and more")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAllString(t, c); got != "reply after EOF, and more" {
		t.Fatalf("client read %q", got)
	}
	waitState(t, c, tcp.TimeWait)
	waitState(t, s, tcp.Closed)
}

// TestHalfCloseServerWrites is the other way round: the server sends its
// greeting and half-closes, the client still talks.
func TestHalfCloseServerWrites(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, s := connPair(t, n, ":7")
	mustWrite(t, s, "greeting")
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAllString(t, c); got != "greeting" {
		t.Fatalf("client read %q", got)
	}
	// EOF again on a second read, as with a kernel socket.
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("second read after EOF = %d, %v", n, err)
	}
	mustWrite(t, c, "answer")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got := readAllString(t, s); got != "answer" {
		t.Fatalf("server read %q", got)
	}
	// The server closed first, so it is the one in TIME-WAIT.
	waitState(t, s, tcp.TimeWait)
	waitState(t, c, tcp.Closed)
}

// TestCloseRead: after CloseRead reads return EOF at once (also a read
// already blocked), while the write side goes on working.
func TestCloseRead(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, s := connPair(t, n, ":7")
	blocked := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		blocked <- err
	}()
	// Make sure the read is really blocked in the stack before CloseRead:
	// it holds the read lock while it waits.
	waitFor(t, 5*time.Second, "Read to block", func() bool {
		if c.readMu.TryLock() {
			c.readMu.Unlock()
			return false
		}
		return true
	})
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if err != io.EOF {
			t.Fatalf("blocked Read after CloseRead = %v, want EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CloseRead did not wake a blocked Read")
	}
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("Read after CloseRead = %d, %v; want 0, EOF", n, err)
	}
	mustWrite(t, c, "still writing")
	c.CloseWrite()
	if got := readAllString(t, s); got != "still writing" {
		t.Fatalf("server read %q", got)
	}
}

// TestSimultaneousClose closes both ends before either sees the other's
// FIN. Both FINs are held back by the link until both sides are in
// FIN-WAIT-1, so the close is simultaneous whatever the scheduling; the
// retransmitted FINs then cross, and both ends go through CLOSING (or
// FIN-WAIT-2, if one FIN is acknowledged before the other arrives) to
// TIME-WAIT (RFC 9293 §3.6, figure 13), and to CLOSED after 2*MSL. For
// contrast, the closes are then repeated one after the other: only the
// first closer goes through TIME-WAIT.
func TestSimultaneousClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testSimultaneousClose)
}

// testSimultaneousClose runs in one bubble, so its two parts, on one
// pair of stacks, are phases rather than subtests (t.Run is not allowed
// in a bubble).
func testSimultaneousClose(t *testing.T) {
	var hold atomic.Bool
	var held atomic.Int32
	holdFIN := func(pkt []byte) bool {
		if s, ok := parseSeg(pkt); ok && isFIN(s) && hold.Load() {
			held.Add(1)
			return true
		}
		return false
	}
	log := newStateLog()
	n := newTestNet(t, netConfig{clientTrace: log, serverTrace: log, pipe: link.PipeConfig{
		AtoB: link.Impairments{Drop: holdFIN},
		BtoA: link.Impairments{Drop: holdFIN},
	}})
	msl := tcp.DefaultConfig().MSL

	func() { // simultaneous
		c, s := connPair(t, n, ":7")
		hold.Store(true)
		start := n.now()
		errs := make(chan error, 2)
		go func() { errs <- c.Close() }()
		go func() { errs <- s.Close() }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if cs, ss := c.State(), s.State(); cs != tcp.FinWait1 || ss != tcp.FinWait1 {
			t.Fatalf("after both Close: client %v, server %v; want FIN-WAIT-1 twice", cs, ss)
		}
		if held.Load() < 2 {
			t.Fatalf("held %d FINs, want both", held.Load())
		}
		hold.Store(false) // the retransmitted FINs get through
		for _, conn := range []*Conn{c, s} {
			log.wait(t, conn, tcp.Closed)
			if st := conn.State(); st != tcp.Closed {
				t.Errorf("State() = %v after the state log saw CLOSED", st)
			}
			h := log.states(conn)
			i := slices.Index(h, tcp.FinWait1)
			if i < 0 || !slices.Contains(h[i:], tcp.TimeWait) || h[len(h)-1] != tcp.Closed || slices.Contains(h, tcp.CloseWait) {
				t.Errorf("%v went through %v; want FIN-WAIT-1, then CLOSING or FIN-WAIT-2, TIME-WAIT, CLOSED", conn.LocalAddr(), h)
			}
		}
		if el := n.now().Sub(start); el < 2*msl {
			t.Errorf("both closed after %v, before 2*MSL", el)
		}
	}()

	func() { // sequential
		c, s := connPair(t, n, ":8")
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readAllString(t, s); got != "" {
			t.Fatalf("server read %q", got)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		log.wait(t, c, tcp.Closed)
		log.wait(t, s, tcp.Closed)
		if h := log.states(c); !slices.Equal(h, []tcp.State{tcp.SynSent, tcp.Established, tcp.FinWait1, tcp.FinWait2, tcp.TimeWait, tcp.Closed}) {
			t.Errorf("active closer went through %v", h)
		}
		if h := log.states(s); !slices.Equal(h, []tcp.State{tcp.SynReceived, tcp.Established, tcp.CloseWait, tcp.LastAck, tcp.Closed}) {
			t.Errorf("passive closer went through %v", h)
		}
	}()

	waitFor(t, 5*time.Second, "stacks to forget the connections", func() bool {
		return n.client.numConns() == 0 && n.server.numConns() == 0
	})
	for _, st := range []Stats{n.client.Stats(), n.server.Stats()} {
		if st.CurrEstab != 0 || st.EstabResets != 0 || st.OutRsts != 0 {
			t.Errorf("CurrEstab %d, EstabResets %d, OutRsts %d; want clean closes", st.CurrEstab, st.EstabResets, st.OutRsts)
		}
	}
}

// TestAbort: SetLinger(0) then Close resets the connection; the peer's
// Read fails with ECONNRESET inside a *net.OpError.
func TestAbort(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c, s := connPair(t, n, ":7")
	mustWrite(t, c, "data the server reads")
	buf := make([]byte, 64)
	if _, err := io.ReadFull(s, buf[:len("data the server reads")]); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := s.Read(buf) // blocks until the RST
		readErr <- err
	}()
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-readErr:
	case <-time.After(10 * time.Second):
		t.Fatal("peer Read did not return after the reset")
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer Read error = %v, want ECONNRESET", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "read" {
		t.Fatalf("peer Read error %#v is not a read *net.OpError", err)
	}
	if c.State() != tcp.Closed || s.State() != tcp.Closed {
		t.Errorf("states after abort: %v, %v", c.State(), s.State())
	}
	// Writes fail the same way; a second Read keeps reporting the reset.
	if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Write after reset = %v, want ECONNRESET", err)
	}
	if _, err := s.Read(buf); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("second Read after reset = %v, want ECONNRESET", err)
	}
	// At least the one reset; the client answers with another any segment
	// of the server's (an ACK of the data, say) that arrives after it.
	if st := n.client.Stats(); st.OutRsts < 1 {
		t.Errorf("client OutRsts = %d, want at least 1", st.OutRsts)
	}
	if st := n.server.Stats(); st.EstabResets != 1 || st.CurrEstab != 0 {
		t.Errorf("server EstabResets = %d, CurrEstab = %d; want 1, 0", st.EstabResets, st.CurrEstab)
	}
	if _, err := c.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on the closed conn = %v, want net.ErrClosed", err)
	}
}

// TestStackCloseUnblocks: Stack.Close makes a blocked Read, Write, Accept
// and Dial return.
func TestStackCloseUnblocks(t *testing.T) {
	t.Parallel()
	var dropSYNs atomic.Bool
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{Drop: func(pkt []byte) bool {
		s, ok := parseSeg(pkt)
		return ok && isSYN(s) && dropSYNs.Load()
	}}}})
	c, s := connPair(t, n, ":7")
	l := listen(t, n.server, ":8")
	_ = s
	errs := make(chan error, 4)
	go func() { // blocked: nothing to read
		_, err := c.Read(make([]byte, 10))
		errs <- err
	}()
	go func() { // blocked: the server never reads, the windows fill
		_, err := c.Write(make([]byte, 8<<20))
		errs <- err
	}()
	go func() { // blocked: nobody dials
		_, err := l.Accept()
		errs <- err
	}()
	dropSYNs.Store(true)
	go func() { // blocked: the SYN is lost
		_, err := n.client.Dial("tcp", "192.0.2.2:8")
		errs <- err
	}()
	waitFor(t, 10*time.Second, "Read, Write and Dial to block", func() bool {
		if c.readMu.TryLock() {
			c.readMu.Unlock()
			return false
		}
		if c.writeMu.TryLock() {
			c.writeMu.Unlock()
			return false
		}
		return n.client.numConns() == 2 && n.client.Stats().ActiveOpens == 2
	})
	n.client.Close()
	n.server.Close()
	for range 4 {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("blocked call returned no error after Stack.Close")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a blocked call did not return after Stack.Close")
		}
	}
	if _, err := n.client.Dial("tcp", "192.0.2.2:7"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial on a closed stack = %v, want net.ErrClosed", err)
	}
	if _, err := n.server.Listen("tcp", ":9"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Listen on a closed stack = %v, want net.ErrClosed", err)
	}
}

// TestNoGoroutineLeak runs a busy conversation on both clocks, closes the
// stacks, and checks that every goroutine they started is gone. It is not
// parallel: other tests' goroutines would blur the count.
func TestNoGoroutineLeak(t *testing.T) {
	for _, sim := range []bool{false, true} {
		name := "real"
		if sim {
			name = "sim"
		}
		t.Run(name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			run := func(t *testing.T) {
				// Delays keep the pipe's timers busy; on the simulated
				// clock losses add retransmissions at no cost in time.
				imp := link.Impairments{Delay: time.Millisecond}
				if sim {
					imp.Loss = 0.02
				}
				n := newTestNet(t, netConfig{pipe: link.PipeConfig{Seed: 1, AtoB: imp, BtoA: imp}})
				l := listen(t, n.server, ":7")
				wait := serveEcho(l)
				for i := range 5 {
					if err := echoOnce(n.client, "192.0.2.2:7", []byte(strings.Repeat("x", 10000*i+1))); err != nil {
						t.Fatal(err)
					}
				}
				// Leave a connection open with a blocked reader, and one
				// mid-handshake, for Stack.Close to clean up.
				c, err := n.client.Dial("tcp", "192.0.2.2:7")
				if err != nil {
					t.Fatal(err)
				}
				go c.Read(make([]byte, 1))
				go n.client.Dial("tcp", "192.0.2.2:1")
				n.close()
				wait()
			}
			if sim {
				// The bubble also ends only once its goroutines have.
				synctest.Test(t, run)
			} else {
				run(t)
			}
			var after int
			deadline := time.Now().Add(5 * time.Second)
			for {
				after = runtime.NumGoroutine()
				if after <= before || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if after > before {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("%d goroutines before, %d after Stack.Close:\n%s", before, after, buf)
			}
		})
	}
}

// A call on a connection that has already closed must not put it back on
// the stack's timer heap (it would fire forever).
func TestRetiredConnLeavesNoTimer(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, _ := n.server.Listen("tcp", ":80")
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c.(*Conn)
		}
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	c.(*Conn).SetLinger(0)
	c.Close()
	if _, err := sc.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the peer's abort: %v", err)
	}
	sc.SetKeepAlivePeriod(10 * time.Millisecond)
	sc.SetNoDelay(false)
	n.server.mu.Lock()
	left := n.server.host.Timed()
	n.server.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d connections on the timer heap after the only one closed", left)
	}
}
