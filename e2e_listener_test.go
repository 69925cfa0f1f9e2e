package threeway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestListenerBacklog: with an accept queue of one and nobody accepting,
// the first client's handshake completes and the others' SYNs are dropped
// (ListenOverflows, ListenDrops); their SYN retransmissions get through
// once Accept makes room, so every client is served in the end.
func TestListenerBacklog(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testListenerBacklog)
}

func testListenerBacklog(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	l.SetBacklog(0, 1)

	first, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	const extra = 3
	start := n.now()
	type dialed struct {
		c   net.Conn
		err error
		at  time.Time
	}
	res := make(chan dialed, extra)
	for range extra {
		go func() {
			c, err := n.client.Dial("tcp", "192.0.2.2:7")
			res <- dialed{c, err, n.now()}
		}()
	}
	waitFor(t, 10*time.Second, "the extra SYNs to be refused room", func() bool {
		st := n.server.Stats()
		return st.ListenDrops >= extra && st.ListenOverflows >= extra
	})
	select {
	case d := <-res:
		t.Fatalf("a dial completed (err %v) while the accept queue was full", d.err)
	default:
	}
	if half, ready := l.pending(); half != 0 || ready != 1 {
		t.Fatalf("%d connections half-open and %d ready to accept, want 0 and 1", half, ready)
	}
	// Accept everything; each Accept makes room for one more handshake.
	accepted := make(chan error, 1)
	go func() {
		for i := range 1 + extra {
			c, err := l.Accept()
			if err != nil {
				accepted <- fmt.Errorf("accept %d: %w", i, err)
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
		accepted <- nil
	}()
	for range extra {
		d := <-res
		if d.err != nil {
			t.Fatalf("a client waiting for the backlog failed: %v", d.err)
		}
		if el := d.at.Sub(start); el < time.Second {
			t.Errorf("a waiting client connected after %v, before any SYN retransmission", el)
		}
		if err := echoConn(d.c, "queued"); err != nil {
			t.Error(err)
		}
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	if err := echoConn(first, "first"); err != nil {
		t.Error(err)
	}
	if st := n.client.Stats(); st.SynRetrans < extra {
		t.Errorf("client SynRetrans = %d, want at least %d", st.SynRetrans, extra)
	}
}

// pending returns the listener's half-open and ready children.
func (l *Listener) pending() (half, ready int) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.tcb.Pending()
}

// echoConn sends msg on c, half-closes, expects it back, and closes c.
func echoConn(c net.Conn, msg string) error {
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	c.(*Conn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

// TestListenerCloseResetsUnaccepted: closing a listener resets the
// connections it had not handed out (clients see ECONNRESET), wakes a
// blocked Accept, and makes later Accepts fail with net.ErrClosed.
func TestListenerCloseResetsUnaccepted(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	const kids = 3
	var clients []net.Conn
	for range kids {
		c, err := n.client.Dial("tcp", "192.0.2.2:7")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	waitFor(t, 10*time.Second, "handshakes to complete on the server", func() bool {
		_, ready := l.pending()
		return ready == kids
	})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client %d Read = %v, want ECONNRESET", i, err)
		}
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	if k := n.server.numConns(); k != 0 {
		t.Errorf("server still tracks %d connections", k)
	}
	if _, err := n.client.Dial("tcp", "192.0.2.2:7"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial to the closed listener = %v, want ECONNREFUSED", err)
	}
	// The port is free again.
	l2 := listen(t, n.server, ":7")
	wait := serveEcho(l2)
	defer wait()
	defer l2.Close()
	if err := echoOnce(n.client, "192.0.2.2:7", []byte("again")); err != nil {
		t.Fatal(err)
	}
}

// TestAcceptUnblockedByClose: a goroutine blocked in Accept returns
// net.ErrClosed when the listener closes.
func TestAcceptUnblockedByClose(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept = %v, want net.ErrClosed", err)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Op != "accept" {
			t.Errorf("error %#v is not an accept *net.OpError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

// TestAcceptContext: AcceptContext gives up when its context is cancelled
// or expires, and the listener keeps working.
func TestAcceptContext(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c, err := l.AcceptContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("AcceptContext(cancelled) = %v, %v; want context.Canceled", c, err)
	}
	// The context's clock starts at WithTimeout: measure from just before.
	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c, err := l.AcceptContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcceptContext(timeout) = %v, %v; want context.DeadlineExceeded", c, err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("AcceptContext gave up after %v, before its deadline", el)
	}
	// A cancellation while blocked.
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.AcceptContext(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked AcceptContext after cancel = %v", err)
	}
	// Still listening.
	go func() {
		c, err := l.AcceptContext(context.Background())
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	if err := echoOnce(n.client, "192.0.2.2:7", []byte("still here")); err != nil {
		t.Fatal(err)
	}
}

// As on Linux, a wildcard and a specific listener on one port collide.
func TestListenAddressConflicts(t *testing.T) {
	n := newTestNet(t, netConfig{})
	if _, err := n.server.Listen("tcp", ":80"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ network, addr string }{{"tcp4", ":80"}, {"tcp", "192.0.2.2:80"}, {"tcp6", "[2001:db8::2]:80"}, {"tcp", ":80"}} {
		if _, err := n.server.Listen(tc.network, tc.addr); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Listen(%s, %s) after Listen(tcp, :80): %v, want EADDRINUSE", tc.network, tc.addr, err)
		}
	}
	if _, err := n.server.Listen("tcp4", ":81"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.server.Listen("tcp6", ":81"); err != nil {
		t.Errorf("IPv6 wildcard beside an IPv4 one: %v", err)
	}
}
