package threeway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/threeway-tcp/threeway/host"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// udpPacket builds a UDP datagram in an IP packet with a valid checksum.
func udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	d := make([]byte, wire.UDPHeaderLen+len(payload))
	wire.EncodeUDP(d, src.Addr(), dst.Addr(), src.Port(), dst.Port(), payload)
	proto := uint8(wire.ProtoUDP)
	return ipPacket(src.Addr(), dst.Addr(), proto, d)
}

// tryNext returns the next packet the stack sends within d, or nil.
func (p *rawPeer) tryNext(d time.Duration) []byte {
	ch := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 65536)
		bufs, sizes := [][]byte{buf}, []int{0}
		if n, _ := p.end.ReadPackets(bufs, sizes); n == 1 {
			ch <- buf[:sizes[0]]
		}
	}()
	select {
	case b := <-ch:
		return b
	case <-time.After(d):
		return nil
	}
}

var (
	peer4  = netip.AddrPortFrom(clientAddr.Addr(), 40000)
	peer6  = netip.AddrPortFrom(client6.Addr(), 40000)
	local4 = netip.AddrPortFrom(serverAddr.Addr(), 7)
	local6 = netip.AddrPortFrom(server6.Addr(), 7)
)

// readOne reads a datagram from c within ten seconds.
func readOne(t *testing.T, c *UDPConn) ([]byte, netip.AddrPort) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2000)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], from
}

// RFC 768 / RFC 1122 §4.1.3.4: datagrams with a bad checksum are
// discarded silently; RFC 768 lets an IPv4 sender send no checksum
// (zero); RFC 8200 §8.1: over IPv6 a zero checksum is discarded.
func TestUDPChecksumRules(t *testing.T) {
	p := newRawPeer(t)
	c := listenUDP(t, p.stack, "udp", ":7")

	bad := udpPacket(peer4, local4, []byte("bad"))
	bad[len(bad)-1] ^= 0x40
	p.send(bad)
	bad6 := udpPacket(peer6, local6, []byte("bad"))
	bad6[len(bad6)-1] ^= 0x40
	p.send(bad6)
	zero6 := udpPacket(peer6, local6, []byte("zero6"))
	zero6[wire.IPv6HeaderLen+6], zero6[wire.IPv6HeaderLen+7] = 0, 0
	p.send(zero6)
	zero4 := udpPacket(peer4, local4, []byte("zero4"))
	zero4[wire.IPv4HeaderLen+6], zero4[wire.IPv4HeaderLen+7] = 0, 0
	p.send(zero4)

	got, from := readOne(t, c)
	if string(got) != "zero4" || from != peer4 {
		t.Fatalf("delivered %q from %v, want the zero-checksum IPv4 datagram", got, from)
	}
	if b := p.tryNext(100 * time.Millisecond); b != nil {
		t.Fatalf("a discarded datagram was answered: % x", b)
	}
	st := p.stack.Stats()
	if st.UDP.InCsumErrors != 3 || st.UDP.InErrors != 3 || st.Drops[tcp.DropBadChecksum] != 3 || st.UDP.InDatagrams != 1 {
		t.Fatalf("stats %+v drops %v", st.UDP, st.DropCounts())
	}
}

// Malformed datagrams are dropped with a reason, never delivered or
// answered.
func TestUDPMalformedDropped(t *testing.T) {
	p := newRawPeer(t)
	listenUDP(t, p.stack, "udp", ":7")
	short := ipPacket(peer4.Addr(), local4.Addr(), wire.ProtoUDP, []byte{0, 1, 0, 7, 0})
	long := udpPacket(peer4, local4, []byte("abc"))
	binary.BigEndian.PutUint16(long[wire.IPv4HeaderLen+4:], 200) // length past the packet
	tiny := udpPacket(peer6, local6, nil)
	binary.BigEndian.PutUint16(tiny[wire.IPv6HeaderLen+4:], 4) // length below the header
	for _, b := range [][]byte{short, long, tiny} {
		p.send(b)
	}
	waitFor(t, 10*time.Second, "drops counted", func() bool { return p.stack.Stats().Drops[tcp.DropMalformed] == 3 })
	if b := p.tryNext(100 * time.Millisecond); b != nil {
		t.Fatalf("a malformed datagram was answered: % x", b)
	}
	if st := p.stack.Stats().UDP; st.InErrors != 3 || st.InDatagrams != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// RFC 1122 §4.1.3.1 and RFC 4443 §3.1: a datagram to a closed port is
// answered with port unreachable quoting it; RFC 1122 §3.2.2 / RFC 4443
// §2.4(e), RFC 1122 §4.1.3.6: a datagram from a multicast or broadcast
// source is discarded, unanswered.
func TestUDPPortUnreachable(t *testing.T) {
	p := newRawPeer(t)
	for _, tc := range []struct {
		src, dst netip.AddrPort
	}{{peer4, local4}, {peer6, local6}} {
		pkt := udpPacket(tc.src, tc.dst, []byte("closed?"))
		p.send(pkt)
		reply := p.next()
		var m wire.ICMP
		var err error
		if tc.src.Addr().Is4() {
			ip, _ := wire.ParseIPv4(reply)
			m, err = wire.ParseICMPv4(ip.Payload())
			if err != nil || m.Type() != wire.ICMPv4DestUnreach || m.Code() != wire.ICMPv4PortUnreach || ip.Dst() != tc.src.Addr() {
				t.Fatalf("v4 reply: %v type %d code %d", err, m.Type(), m.Code())
			}
		} else {
			ip, _ := wire.ParseIPv6(reply)
			m, err = wire.ParseICMPv6(ip.Src(), ip.Dst(), ip.Payload())
			if err != nil || m.Type() != wire.ICMPv6DestUnreach || m.Code() != wire.ICMPv6PortUnreach {
				t.Fatalf("v6 reply: %v type %d code %d", err, m.Type(), m.Code())
			}
		}
		if !bytes.Equal(m.Body(), pkt) {
			t.Fatalf("quoted % x, want % x", m.Body(), pkt)
		}
	}
	for _, src := range []string{"224.0.0.9:520", "255.255.255.255:68", "[ff02::1]:520"} {
		from := netip.MustParseAddrPort(src)
		to := local4
		if !from.Addr().Is4() {
			to = local6
		}
		p.send(udpPacket(from, to, []byte("m")))
		if b := p.tryNext(100 * time.Millisecond); b != nil {
			t.Fatalf("answered %s: % x", src, b)
		}
	}
	if st := p.stack.Stats(); st.UDP.NoPorts != 2 || st.Drops[tcp.DropNotForUs] != 3 {
		t.Fatalf("stats %+v drops %v", st.UDP, st.DropCounts())
	}
}

// RFC 1812 §4.3.2.8 / RFC 4443 §2.4(f): port unreachable messages are
// rate limited, with the limiter TCP's answers share.
func TestUDPPortUnreachableRateLimited(t *testing.T) {
	p := newRawPeer(t)
	const burst = host.ICMPRate + 50
	for i := 0; i < burst; i++ {
		p.send(udpPacket(peer4, local4, []byte{byte(i)}))
	}
	waitFor(t, 10*time.Second, "datagrams counted", func() bool { return p.stack.Stats().UDP.NoPorts == burst })
	replies := 0
	for p.tryNext(200*time.Millisecond) != nil {
		replies++
	}
	if replies == 0 || replies > host.ICMPRate {
		t.Fatalf("%d port unreachables for %d datagrams in under a second, want 1..%d", replies, burst, host.ICMPRate)
	}
}

// An ICMP error quoting a datagram a connected socket sent is reported
// on it as ECONNREFUSED; one quoting another socket's, or too short to
// name the ports, is not.
func TestUDPICMPErrorToConnectedSocket(t *testing.T) {
	p := newRawPeer(t)
	c, err := p.stack.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(peer4))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other, _ := p.stack.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40001})
	defer other.Close()
	c.Write([]byte("hello"))
	sent := p.next()
	// Too short: the IP header and half a UDP header.
	p.send(icmpPacket(peer4.Addr(), local4.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, sent[:wire.IPv4HeaderLen+4]))
	// For the other socket: quote our datagram with its port.
	forged := bytes.Clone(sent)
	binary.BigEndian.PutUint16(forged[wire.IPv4HeaderLen:], other.local.Port())
	binary.BigEndian.PutUint16(forged[wire.IPv4HeaderLen+2:], 40001)
	p.send(icmpPacket(peer4.Addr(), local4.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, forged[:wire.IPv4HeaderLen+8]))
	// Soft errors are not reported (time exceeded).
	p.send(icmpPacket(peer4.Addr(), local4.Addr(), wire.ICMPv4TimeExceeded, 0, 0, sent))
	p.send(udpPacket(peer4, c.local, []byte("after")))
	if got, _ := readOne(t, c); string(got) != "after" {
		t.Fatalf("read %q", got)
	}
	if _, err := other.Write([]byte("x")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("the socket named by the quote: %v", err)
	}
	p.send(icmpPacket(peer4.Addr(), local4.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, sent))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read after port unreachable: %v", err)
	}
}

// A connected socket takes datagrams from its peer only.
func TestUDPConnectedFiltersPeers(t *testing.T) {
	p := newRawPeer(t)
	c, err := p.stack.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(peer6))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.send(udpPacket(netip.AddrPortFrom(peer6.Addr(), 1), c.local, []byte("stranger")))
	if b := p.tryNext(time.Second); b == nil {
		t.Fatal("a stranger's datagram was not answered with port unreachable")
	}
	p.send(udpPacket(peer6, c.local, []byte("peer")))
	if got, from := readOne(t, c); string(got) != "peer" || from != peer6 {
		t.Fatalf("read %q from %v", got, from)
	}
}

// The receive fast path, from IP packet to the reader's buffer, allocates
// nothing per datagram.
func TestUDPReceiveDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumentation allocates")
	}
	s, c, pkt := udpBenchSetup(t)
	buf := make([]byte, 2048)
	// Every queue slot grows its buffer once; after that, none.
	for range 2 * host.QueueDatagrams {
		udpReceiveOne(s, c, pkt, buf)
	}
	if n := testing.AllocsPerRun(1000, func() { udpReceiveOne(s, c, pkt, buf) }); n != 0 {
		t.Fatalf("%v allocations per datagram", n)
	}
}

func BenchmarkUDPReceive(b *testing.B) {
	s, c, pkt := udpBenchSetup(b)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		udpReceiveOne(s, c, pkt, buf)
	}
}

func udpBenchSetup(tb testing.TB) (*Stack, *UDPConn, []byte) {
	n := newTestNet(tb, netConfig{})
	c, err := n.server.ListenUDP("udp", &net.UDPAddr{Port: 7})
	if err != nil {
		tb.Fatal(err)
	}
	return n.server, c, udpPacket(peer6, local6, make([]byte, 1200))
}

// udpReceiveOne is what the stack's goroutine does for one packet, then
// the reader's read.
func udpReceiveOne(s *Stack, c *UDPConn, pkt, buf []byte) {
	s.mu.Lock()
	s.host.Input(s.now(), pkt, false)
	s.handleEvents()
	s.mu.Unlock()
	if n, _, err := c.ReadFromUDPAddrPort(buf); err != nil || n != 1200 {
		panic(err)
	}
}

// FuzzUDPInput feeds arbitrary packets to a stack with UDP sockets (one
// connected) and a forwarder: no panic; every UDP datagram to one of the
// stack's addresses is delivered, answered as a closed port, or counted as
// an error, exactly one of the three; queues stay within their bounds.
func FuzzUDPInput(f *testing.F) {
	f.Add(udpPacket(peer4, local4, []byte("hello")))
	f.Add(udpPacket(peer6, local6, []byte("hello")))
	f.Add(udpPacket(peer4, netip.AddrPortFrom(serverAddr.Addr(), 9), nil))
	f.Add(udpPacket(peer4, netip.MustParseAddrPort("203.0.113.1:53"), []byte("q")))
	f.Add(icmpPacket(peer4.Addr(), local4.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0,
		udpPacket(netip.AddrPortFrom(serverAddr.Addr(), 5000), peer4, []byte("x"))))
	f.Add(icmpPacket(peer6.Addr(), local6.Addr(), wire.ICMPv6DestUnreach, wire.ICMPv6PortUnreach, 0,
		udpPacket(netip.AddrPortFrom(server6.Addr(), 5000), peer6, []byte("x"))[:44]))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		a, b := link.Pipe(link.PipeConfig{})
		defer a.Close()
		sec := [16]byte{3}
		s, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr, server6}, ISNSecret: &sec})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ln, err := s.ListenUDP("udp", &net.UDPAddr{Port: 7})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetReadBuffer(3000)
		conn, err := s.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 5000}, net.UDPAddrFromAddrPort(peer4))
		if err != nil {
			t.Fatal(err)
		}
		fwd, err := s.ForwardUDP(UDPForwarderConfig{Prefixes: []netip.Prefix{covered4}, Handler: func(c *UDPConn) { c.Close() }, MaxFlows: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer fwd.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.now()
		for i := 0; i < 3; i++ {
			before := s.host.Stats().UDP
			s.host.Input(now, pkt, false)
			after := s.host.Stats().UDP
			got := (after.InDatagrams - before.InDatagrams) + (after.InErrors - before.InErrors) + (after.NoPorts - before.NoPorts)
			if want := localUDP(s, pkt); want && got != 1 {
				t.Fatalf("a datagram for the stack counted %d times: %+v -> %+v", got, before, after)
			}
		}
		s.flushLocked(now)
		for _, c := range []*UDPConn{ln, conn} {
			// ln's bound is SetReadBuffer's 3000 bytes; conn's the default.
			n, b := c.hs.Queued()
			if n > host.QueueDatagrams || n > 1 && b > max(3000, host.QueueBytes*btoi(c == conn)) {
				t.Fatalf("queue past its bounds: %d datagrams, %d bytes", n, b)
			}
		}
		if n := fwd.hf.Flows(); n > 2 {
			t.Fatalf("%d flows, bound 2", n)
		}
	})
}

// localUDP reports whether pkt is a well-formed, unfragmented IP packet
// carrying UDP to one of s's addresses.
func localUDP(s *Stack, pkt []byte) bool {
	switch wire.IPVersion(pkt) {
	case 4:
		ip, err := wire.ParseIPv4(pkt)
		return err == nil && !ip.IsFragment() && ip.Protocol() == wire.ProtoUDP && s.isLocal(ip.Dst())
	case 6:
		ip, err := wire.ParseIPv6(pkt)
		return err == nil && ip.NextHeader() == wire.ProtoUDP && s.isLocal(ip.Dst())
	}
	return false
}

// BenchmarkUDPSend measures WriteToUDPAddrPort down to the link.
func BenchmarkUDPSend(b *testing.B) {
	a, end := link.Pipe(link.PipeConfig{QueueLen: 1 << 20})
	defer a.Close()
	s, err := New(Options{Link: end, Addrs: []netip.Prefix{serverAddr, server6}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.ListenUDP("udp", &net.UDPAddr{Port: 7})
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1200)
	drain := make(chan struct{})
	go func() {
		defer close(drain)
		bufs, sizes := [][]byte{make([]byte, 2048)}, []int{0}
		for {
			if _, err := a.ReadPackets(bufs, sizes); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := c.WriteToUDPAddrPort(p, peer6); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	a.Close()
	<-drain
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
