package threeway

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

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

// A SYN to a TIME-WAIT connection with no listener on its port keeps
// TIME-WAIT (it is answered with an ACK) instead of ending it and sending
// a reset.
func TestTimeWaitKeptWithoutListener(t *testing.T) {
	p := newRawPeer(t)
	syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
	h := tcpOf(t, syn)
	port, iss := h.SrcPort(), h.Seq()
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 5000, Ack: iss + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535}, nil, nil))
	if err := <-done; err != nil { // the helper closes the conn: a FIN follows
		t.Fatal(err)
	}
	p.next() // ACK of the SYN-ACK
	fin := tcpOf(t, p.next())
	if !fin.Flags().Has(wire.FlagFIN) {
		t.Fatalf("want FIN, got %v", fin.Flags())
	}
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 5001, Ack: iss + 2,
		Flags: wire.FlagFIN | wire.FlagACK, Window: 65535}, nil, nil))
	p.next() // ACK of our FIN: the stack is in TIME-WAIT
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 900000,
		Flags: wire.FlagSYN, Window: 65535}, nil, nil))
	ack := tcpOf(t, p.next())
	if ack.Flags() != wire.FlagACK || ack.Ack() != 5002 {
		t.Fatalf("SYN in TIME-WAIT without a listener answered with %v ack %d, want . ack 5002", ack.Flags(), ack.Ack())
	}
	if st := p.stack.Stats(); st.TimeWaitReopen != 0 || st.OutRsts != 0 {
		t.Fatalf("TIME-WAIT reopened (%d) or reset (%d)", st.TimeWaitReopen, st.OutRsts)
	}
	p.stack.mu.Lock()
	defer p.stack.mu.Unlock()
	for _, c := range p.stack.conns {
		if c.tcb.State() != tcp.TimeWait {
			t.Fatalf("connection in %v", c.tcb.State())
		}
	}
}
