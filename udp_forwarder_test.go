package threeway

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	covered4 = netip.MustParsePrefix("203.0.113.0/24")
	covered6 = netip.MustParsePrefix("2001:db8:ff::/48")
)

// flowEcho answers each datagram of a flow with its local address and the
// datagram, until the flow ends; it reports the error that ended it.
func flowEcho(ended chan<- error) func(*UDPConn) {
	return func(c *UDPConn) {
		buf := make([]byte, 2000)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
			c.Write(append([]byte(c.LocalAddr().String()+" "), buf[:n]...))
		}
	}
}

// Datagrams to covered destinations become flows, one per 4-tuple, whose
// local address is the destination the client chose and whose answers
// come from it.
func TestUDPForwarderFlows(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	var handled atomic.Int32
	echo := flowEcho(nil)
	f, err := n.server.ForwardUDP(UDPForwarderConfig{
		Prefixes: []netip.Prefix{covered4, covered6},
		Handler:  func(c *UDPConn) { handled.Add(1); echo(c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := listenUDP(t, n.client, "udp", ":0")
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2000)
	for _, dst := range []string{"203.0.113.5:53", "[2001:db8:ff::9]:53", "203.0.113.77:4000"} {
		ap := netip.MustParseAddrPort(dst)
		for i := 0; i < 3; i++ {
			if _, err := c.WriteToUDPAddrPort([]byte("q"), ap); err != nil {
				t.Fatal(err)
			}
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			if from != ap || string(buf[:k]) != ap.String()+" q" {
				t.Fatalf("answer %q from %v, want one from %v", buf[:k], from, ap)
			}
		}
	}
	if got := handled.Load(); got != 3 {
		t.Errorf("%d flows handled, want 3 (one per 4-tuple)", got)
	}
	if f.Flows() != 3 {
		t.Errorf("Flows() = %d", f.Flows())
	}
	// A second client port is a new 4-tuple: a new flow.
	c2 := listenUDP(t, n.client, "udp4", ":0")
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	c2.WriteToUDPAddrPort([]byte("q"), netip.MustParseAddrPort("203.0.113.5:53"))
	if _, _, err := c2.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatal(err)
	}
	if got := handled.Load(); got != 4 {
		t.Errorf("%d flows handled, want 4", got)
	}
	// Destinations outside the prefixes are still not the stack's.
	c.WriteToUDPAddrPort([]byte("q"), netip.MustParseAddrPort("198.51.100.1:53"))
	waitFor(t, 10*time.Second, "drop counted", func() bool { return n.server.Stats().Drops[tcp.DropNotForUs] == 1 })
	// Closing the forwarder ends its flows.
	f.Close()
	if f.Flows() != 0 {
		t.Errorf("Flows() after Close = %d", f.Flows())
	}
}

// RFC 4787 REQ-5: a flow lives while it carries traffic and ends after
// the idle timeout; the 4-tuple then opens a new flow. The test moves a
// simulated clock by hand.
func TestUDPForwarderIdleTimeout(t *testing.T) {
	sim := clock.NewSim(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b := link.Pipe(link.PipeConfig{Clock: sim})
	sec := [16]byte{9}
	s, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr}, Clock: sim, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); a.Close() })
	p := &rawPeer{t: t, end: a, stack: s, addr: clientAddr.Addr()}
	ended := make(chan error, 4)
	var handled atomic.Int32
	echo := flowEcho(ended)
	f, err := s.ForwardUDP(UDPForwarderConfig{
		Prefixes:    []netip.Prefix{covered4},
		Handler:     func(c *UDPConn) { handled.Add(1); echo(c) },
		IdleTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort("203.0.113.5:53")
	query := func() {
		t.Helper()
		p.send(udpPacket(peer4, dst, []byte("q")))
		ip, err := wire.ParseIPv4(p.next())
		if err != nil || ip.Src() != dst.Addr() {
			t.Fatalf("answer from %v: %v", ip.Src(), err)
		}
	}
	query()
	// Traffic every 20 s keeps the flow.
	for i := 0; i < 4; i++ {
		sim.Advance(20 * time.Second)
		query()
	}
	sim.Advance(29 * time.Second)
	if handled.Load() != 1 || f.Flows() != 1 {
		t.Fatalf("%d flows handled, %d live, after steady traffic", handled.Load(), f.Flows())
	}
	select {
	case err := <-ended:
		t.Fatalf("flow ended early: %v", err)
	default:
	}
	sim.Advance(2 * time.Second)
	select {
	case err := <-ended:
		if !errors.Is(err, ErrFlowIdle) {
			t.Fatalf("flow ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the idle flow did not end")
	}
	if f.Flows() != 0 {
		t.Fatalf("Flows() = %d after the timeout", f.Flows())
	}
	query()
	if handled.Load() != 2 {
		t.Fatalf("%d flows handled, want a new one after the timeout", handled.Load())
	}
}

// The flow table is bounded; datagrams past it are dropped and counted.
func TestUDPForwarderMaxFlows(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	f, err := n.server.ForwardUDP(UDPForwarderConfig{
		Prefixes: []netip.Prefix{covered4}, Handler: flowEcho(nil), MaxFlows: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dst := &net.UDPAddr{IP: net.ParseIP("203.0.113.5"), Port: 53}
	for i := 0; i < 3; i++ {
		c := listenUDP(t, n.client, "udp4", ":0")
		c.WriteTo([]byte("q"), dst)
	}
	waitFor(t, 10*time.Second, "drop counted", func() bool { return n.server.Stats().Drops[tcp.DropFlowLimit] == 1 })
	if f.Flows() != 2 {
		t.Fatalf("Flows() = %d", f.Flows())
	}
	if _, err := n.server.ForwardUDP(UDPForwarderConfig{}); err == nil {
		t.Fatal("a forwarder without prefixes or handler was accepted")
	}
}

// A relay passes on its upstream's port unreachable: the client's
// connected socket reports ECONNREFUSED, IPv4 and IPv6.
func TestUDPForwarderSendUnreachable(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	f, err := n.server.ForwardUDP(UDPForwarderConfig{
		Prefixes: []netip.Prefix{covered4, covered6},
		Handler:  func(c *UDPConn) { c.SendUnreachable() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, dst := range []string{"203.0.113.5:53", "[2001:db8:ff::9]:53"} {
		c, err := n.client.Dial("udp", dst)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("q"))
		if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s: read after the relayed port unreachable: %v", dst, err)
		}
		c.Close()
	}
}
