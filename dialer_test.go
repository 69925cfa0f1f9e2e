package threeway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// After Stack.Close every dial, listen and forward entry point fails with
// an error that is net.ErrClosed (as for a closed net socket) and
// ErrStackClosed; the dial and listen ones are *net.OpError, as package
// net's are.
func TestEntryPointsAfterStackClose(t *testing.T) {
	p := newRawPeer(t)
	s := p.stack
	s.Close()
	peer := netip.AddrPortFrom(p.addr, 7)
	calls := []struct {
		name  string
		opErr bool
		call  func() error
	}{
		{"Dial tcp", true, func() error { _, err := s.Dial("tcp", peer.String()); return err }},
		{"Dial udp", true, func() error { _, err := s.Dial("udp", peer.String()); return err }},
		{"DialContext", true, func() error { _, err := s.DialContext(context.Background(), "tcp4", peer.String()); return err }},
		{"Dialer Nonblock", true, func() error {
			_, err := (&Dialer{Stack: s, Nonblock: true}).Dial("tcp", peer.String())
			return err
		}},
		{"Dialer FastOpen", true, func() error {
			_, err := (&Dialer{Stack: s, FastOpen: true}).Dial("tcp", peer.String())
			return err
		}},
		{"Dialer LocalAddr udp", true, func() error {
			_, err := (&Dialer{Stack: s, LocalAddr: netip.MustParseAddrPort("192.0.2.2:5000")}).Dial("udp4", peer.String())
			return err
		}},
		{"DialUDP", true, func() error { _, err := s.DialUDP("udp", nil, net.UDPAddrFromAddrPort(peer)); return err }},
		{"Listen", true, func() error { _, err := s.Listen("tcp", ":80"); return err }},
		{"ListenTCP", true, func() error { _, err := s.ListenTCP("tcp", &net.TCPAddr{Port: 80}); return err }},
		{"ListenPacket", true, func() error { _, err := s.ListenPacket("udp", ":53"); return err }},
		{"ListenUDP", true, func() error { _, err := s.ListenUDP("udp", nil); return err }},
		{"DialPing", true, func() error { _, err := s.DialPing("ping4", netip.Addr{}, p.addr); return err }},
		{"ListenPing", true, func() error { _, err := s.ListenPing("ping6", netip.Addr{}); return err }},
		{"Forward", false, func() error {
			_, err := s.Forward(nil, func(*ForwardRequest) {}, ForwardOptions{})
			return err
		}},
		{"ForwardUDP", false, func() error {
			_, err := s.ForwardUDP(UDPForwarderConfig{Prefixes: []netip.Prefix{covered4}, Handler: func(c *UDPConn) {}})
			return err
		}},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrStackClosed) {
			t.Errorf("%s after Close: %v, want net.ErrClosed and ErrStackClosed", c.name, err)
			continue
		}
		var oe *net.OpError
		if c.opErr && !errors.As(err, &oe) {
			t.Errorf("%s after Close: %T, want a *net.OpError", c.name, err)
		}
	}
}

// A dial blocked in the handshake when the stack closes fails with
// ErrStackClosed, which is net.ErrClosed.
func TestDialPendingWhenStackCloses(t *testing.T) {
	p := newRawPeer(t)
	done := make(chan error, 1)
	go func() {
		_, err := p.stack.Dial("tcp", "192.0.2.1:7")
		done <- err
	}()
	p.next() // the SYN: the dial is waiting for an answer
	p.stack.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrStackClosed) {
			t.Fatalf("dial cut short by Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dial did not return after Close")
	}
}

// As with package net, Dial's net.Conn is a *Conn for TCP and a *UDPConn
// for UDP, Listen's net.Listener a *Listener and ListenPacket's
// net.PacketConn a *UDPConn; a failed dial returns a nil interface, not a
// typed nil.
func TestDialAndListenConcreteTypes(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, err := n.server.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, ok := l.(*Listener); !ok {
		t.Errorf("Listen returned %T", l)
	}
	pc, err := n.server.ListenPacket("udp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, ok := pc.(*UDPConn); !ok {
		t.Errorf("ListenPacket returned %T", pc)
	}
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tc, ok := c.(*Conn); !ok || tc.State() != tcp.Established {
		t.Errorf("Dial tcp returned %T", c)
	}
	u, err := n.client.Dial("udp6", "[2001:db8::2]:7")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, ok := u.(*UDPConn); !ok {
		t.Errorf("Dial udp6 returned %T", u)
	}
	if c, err := n.client.Dial("tcp", "192.0.2.2:8"); c != nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused dial: %#v, %v", c, err)
	}
	if c, err := (&Dialer{}).Dial("tcp", "192.0.2.2:7"); c != nil || err == nil {
		t.Errorf("a Dialer without a Stack: %v, %v", c, err)
	}
}

// Dialer.Nonblock returns with the connection in SYN-SENT and its SYN
// sent, as a non-blocking connect() returns EINPROGRESS; a RST then
// closes it and SocketError says ECONNREFUSED.
func TestDialerNonblock(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	nc, err := (&Dialer{Stack: p.stack, Nonblock: true}).Dial("tcp", "192.0.2.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	defer c.Close()
	if st, serr := c.State(), c.SocketError(); st != tcp.SynSent || serr != nil {
		t.Fatalf("after a non-blocking dial: %v, %v", st, serr)
	}
	syn := tcpOf(t, p.next())
	if syn.Flags() != wire.FlagSYN {
		t.Fatalf("sent %v, want a SYN", syn.Flags())
	}
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 5000, DstPort: syn.SrcPort(), Ack: syn.Seq() + 1,
		Flags: wire.FlagRST | wire.FlagACK}, nil, nil))
	waitFor(t, 10*time.Second, "the refused handshake", func() bool { return c.State() == tcp.Closed })
	if err := c.SocketError(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("SocketError %v, want ECONNREFUSED", err)
	}
}

// Dialer.Timeout runs on the stack's clock: on a simulated clock the dial
// fails as a timeout once simulated time passes it, not before, and long
// before the handshake's own SYN retries give up. A Deadline already past
// fails at once without sending a SYN.
func TestDialerTimeoutOnStackClock(t *testing.T) {
	sim := clock.NewSim(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newForwardPeer(t, sim, Options{})
	d := &Dialer{Stack: p.stack, Timeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() {
		_, err := d.Dial("tcp", "192.0.2.1:5000")
		done <- err
	}()
	p.next() // the SYN; the peer never answers
	sim.Advance(29 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("the dial ended before its timeout: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	sim.Advance(2 * time.Second)
	select {
	case err := <-done:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("dial past its Timeout: %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dial did not time out on the stack's clock")
	}

	past := &Dialer{Stack: p.stack, Deadline: sim.Now().Add(-time.Second)}
	if c, err := past.Dial("tcp", "192.0.2.1:5001"); c != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial past its Deadline: %v, %v", c, err)
	}
	// Drain the first dial's SYN retransmissions, then nothing more.
	for {
		pkt := p.tryNext(100 * time.Millisecond)
		if pkt == nil {
			break
		}
		if seg := tcpOf(t, pkt); seg.DstPort() == 5001 {
			t.Fatal("a dial past its Deadline sent a SYN")
		}
	}
}

// A Dialer dials UDP as net.Dialer does: from LocalAddr, with Control
// given the *UDPConn before the dial returns and RecvBuffer its read
// buffer; Control's error closes the socket and fails the dial.
func TestDialerUDP(t *testing.T) {
	n := newTestNet(t, netConfig{})
	srv := listenUDP(t, n.server, "udp", ":7")
	var seen net.Conn
	d := &Dialer{Stack: n.client, LocalAddr: netip.MustParseAddrPort("192.0.2.1:5353"), RecvBuffer: 4096,
		Control: func(network, address string, c net.Conn) error { seen = c; return nil }}
	c, err := d.Dial("udp4", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := seen.(*UDPConn); !ok || seen != c {
		t.Fatalf("Control saw %T", seen)
	}
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 16)
	_, from, err := srv.ReadFromUDPAddrPort(buf)
	if err != nil || from != d.LocalAddr {
		t.Fatalf("datagram from %v, %v; want %v", from, err, d.LocalAddr)
	}
	refuse := &Dialer{Stack: n.client, LocalAddr: netip.AddrPortFrom(netip.Addr{}, 5354),
		Control: func(string, string, net.Conn) error { return syscall.EPERM }}
	if _, err := refuse.Dial("udp", "192.0.2.2:7"); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Control's error: %v", err)
	}
	// The refused socket is closed: its port is free again.
	again, err := (&Dialer{Stack: n.client, LocalAddr: netip.AddrPortFrom(netip.Addr{}, 5354)}).Dial("udp", "192.0.2.2:7")
	if err != nil {
		t.Fatalf("port of the refused socket: %v", err)
	}
	again.Close()
}

// ListenTCP, ListenUDP and DialUDP have package net's signatures and
// meanings: a nil address is any address and an ephemeral port; DialUDP
// without a remote address is an error.
func TestNetSignatureEntryPoints(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, err := n.server.ListenTCP("tcp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	la := l.Addr().(*net.TCPAddr)
	if la.Port == 0 {
		t.Fatalf("ListenTCP(nil) on %v", la)
	}
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := n.client.Dial("tcp", net.JoinHostPort("192.0.2.2", strconv.Itoa(la.Port)))
	if err != nil {
		t.Fatalf("dial the ephemeral listener %v: %v", la, err)
	}
	c.Close()
	l6, err := n.server.ListenTCP("tcp6", &net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	l6.Close()
	if _, err := n.server.ListenTCP("tcp4", &net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 8080}); err == nil {
		t.Fatal("ListenTCP tcp4 on an IPv6 address")
	}

	u, err := n.server.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.LocalAddr().(*net.UDPAddr).Port == 0 {
		t.Fatalf("ListenUDP(nil) on %v", u.LocalAddr())
	}
	raddr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(serverAddr.Addr(), uint16(u.LocalAddr().(*net.UDPAddr).Port)))
	laddr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 6000}
	uc, err := n.client.DialUDP("udp4", laddr, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if got := uc.LocalAddr().String(); got != "192.0.2.1:6000" {
		t.Fatalf("DialUDP bound to %v", got)
	}
	if _, err := n.client.DialUDP("udp", laddr, nil); err == nil {
		t.Fatal("DialUDP without a remote address")
	}
}
