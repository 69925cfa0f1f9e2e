package threeway

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

func TestICMPEchoRequestIsAnswered(t *testing.T) {
	for _, tc := range []struct {
		src, dst  netip.Addr
		req, resp uint8
	}{
		{clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4EchoRequest, wire.ICMPv4EchoReply},
		{client6.Addr(), server6.Addr(), wire.ICMPv6EchoRequest, wire.ICMPv6EchoReply},
	} {
		p := newRawPeer(t)
		data := []byte("ping payload")
		p.send(icmpPacket(tc.src, tc.dst, tc.req, 0, 0x12340007, data))
		reply := p.next()
		var m wire.ICMP
		var err error
		if tc.src.Is4() {
			ip, _ := wire.ParseIPv4(reply)
			if ip.Src() != tc.dst || ip.Dst() != tc.src {
				t.Fatalf("reply addressed %v -> %v", ip.Src(), ip.Dst())
			}
			m, err = wire.ParseICMPv4(ip.Payload())
		} else {
			ip, _ := wire.ParseIPv6(reply)
			m, err = wire.ParseICMPv6(ip.Src(), ip.Dst(), ip.Payload())
		}
		if err != nil {
			t.Fatalf("reply does not parse (checksum?): %v", err)
		}
		if m.Type() != tc.resp || m.RestOfHeader() != 0x12340007 || !bytes.Equal(m.Body(), data) {
			t.Fatalf("reply type %d rest %#x body %q", m.Type(), m.RestOfHeader(), m.Body())
		}
	}
}

func TestUnknownProtocolGetsUnreachable(t *testing.T) {
	p := newRawPeer(t)
	udp := []byte{0x30, 0x39, 0, 53, 0, 8, 0, 0}
	p.send(ipPacket(clientAddr.Addr(), serverAddr.Addr(), 17, udp))
	ip, _ := wire.ParseIPv4(p.next())
	m, err := wire.ParseICMPv4(ip.Payload())
	if err != nil || m.Type() != wire.ICMPv4DestUnreach || m.Code() != wire.ICMPv4PortUnreach {
		t.Fatalf("UDP: got %v type %d code %d", err, m.Type(), m.Code())
	}
	p.send(ipPacket(clientAddr.Addr(), serverAddr.Addr(), 132, udp))
	ip, _ = wire.ParseIPv4(p.next())
	m, _ = wire.ParseICMPv4(ip.Payload())
	if m.Type() != wire.ICMPv4DestUnreach || m.Code() != wire.ICMPv4ProtoUnreach {
		t.Fatalf("SCTP: type %d code %d", m.Type(), m.Code())
	}
	p.send(ipPacket(client6.Addr(), server6.Addr(), 132, udp))
	ip6, _ := wire.ParseIPv6(p.next())
	m, err = wire.ParseICMPv6(ip6.Src(), ip6.Dst(), ip6.Payload())
	if err != nil || m.Type() != wire.ICMPv6ParamProblem || m.Code() != wire.ICMPv6UnknownNextHdr || m.RestOfHeader() != 6 {
		t.Fatalf("IPv6: %v type %d code %d pointer %d", err, m.Type(), m.Code(), m.RestOfHeader())
	}
}

// dialAndCatchSyn starts a dial from the stack under test and returns the
// SYN it sent plus a channel with the dial's result.
func dialAndCatchSyn(t *testing.T, p *rawPeer, ctx context.Context, dst string) ([]byte, chan error) {
	done := make(chan error, 1)
	go func() {
		c, err := p.stack.DialContext(ctx, "tcp", dst)
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	syn := p.next()
	if !tcpOf(t, syn).Flags().Has(wire.FlagSYN) {
		t.Fatalf("first packet is not a SYN")
	}
	return syn, done
}

func TestICMPPortUnreachableRefusesConnect(t *testing.T) {
	p := newRawPeer(t)
	syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
	p.send(icmpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, syn[:28]))
	select {
	case err := <-done:
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial: %v, want ECONNREFUSED", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("dial not aborted by port unreachable")
	}
}

func TestICMPWithWrongSequenceIsIgnored(t *testing.T) {
	p := newRawPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	syn, done := dialAndCatchSyn(t, p, ctx, "192.0.2.1:80")
	forged := append([]byte(nil), syn[:28]...)
	forged[24] ^= 0x80 // sequence number outside SND.UNA..SND.NXT (RFC 5927 §4.1)
	p.send(icmpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, forged))
	if err := <-done; errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: %v, want the context's timeout (ICMP ignored)", err)
	}
}

func TestICMPSoftErrorDoesNotAbort(t *testing.T) {
	p := newRawPeer(t)
	syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
	p.send(icmpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4DestUnreach, 1, 0, syn[:28]))
	// MUST-56: host unreachable is soft; the handshake still completes.
	h := tcpOf(t, syn)
	synAck := tcpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.TCPFields{
		SrcPort: 80, DstPort: h.SrcPort(), Seq: 5000, Ack: h.Seq() + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
	}, &wire.Options{HasMSS: true, MSS: 1460}, nil)
	p.send(synAck)
	if err := <-done; err != nil {
		t.Fatalf("dial after a soft error: %v", err)
	}
}

func TestPacketTooBigLowersMSSAndRetransmits(t *testing.T) {
	p := newRawPeer(t)
	syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
	h := tcpOf(t, syn)
	port := h.SrcPort()
	p.send(tcpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.TCPFields{
		SrcPort: 80, DstPort: port, Seq: 5000, Ack: h.Seq() + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
	}, &wire.Options{HasMSS: true, MSS: 1460}, nil))
	// Keep the connection: dial with a fresh goroutine holding it.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = p.next() // the ACK of our SYN-ACK
	// The dial helper closed its conn: the FIN carries the next sequence.
	fin := tcpOf(t, p.next())
	if !fin.Flags().Has(wire.FlagFIN) {
		t.Fatalf("expected FIN, got %v", fin.Flags())
	}
	s := p.stack
	s.mu.Lock()
	var c *Conn
	for _, hc := range s.host.Conns() {
		c = hc.User.(*Conn)
	}
	s.mu.Unlock()
	if c == nil {
		t.Fatal("no connection")
	}
	inv := ipPacket(serverAddr.Addr(), clientAddr.Addr(), wire.ProtoTCP, fin[:20])
	inv = append(inv[:20], fin[:8]...)
	p.send(icmpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4FragNeeded, 1000, inv))
	// RFC 1191: the send MSS drops to MTU-40 and what was in flight goes again.
	again := tcpOf(t, p.next())
	if !again.Flags().Has(wire.FlagFIN) || again.Seq() != fin.Seq() {
		t.Fatalf("no retransmission after packet too big: %v seq %d", again.Flags(), again.Seq())
	}
	if n := c.Negotiated(); n.SendMSS != 960 {
		t.Fatalf("send MSS %d after fragmentation needed with MTU 1000, want 960", n.SendMSS)
	}
	st := s.Stats()
	if st.Drops[tcp.DropMalformed] != 0 {
		t.Fatalf("ICMP counted as malformed")
	}
}

func TestPacketsNotForUsAreDropped(t *testing.T) {
	p := newRawPeer(t)
	before := p.stack.Stats().Drops[tcp.DropNotForUs]
	// A SYN to the subnet broadcast address and one from a multicast source.
	p.send(tcpPacket(clientAddr.Addr(), netip.MustParseAddr("192.0.2.255"), wire.TCPFields{SrcPort: 1, DstPort: 80, Seq: 1, Flags: wire.FlagSYN}, nil, nil))
	p.send(tcpPacket(netip.MustParseAddr("224.0.0.1"), serverAddr.Addr(), wire.TCPFields{SrcPort: 1, DstPort: 80, Seq: 1, Flags: wire.FlagSYN}, nil, nil))
	deadline := time.Now().Add(time.Second)
	for p.stack.Stats().Drops[tcp.DropNotForUs] < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("NotForUs drops: %d", p.stack.Stats().Drops[tcp.DropNotForUs]-before)
		}
		time.Sleep(time.Millisecond)
	}
}
