package threeway

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// rawPeer is a test's hand on the far end of a pipe: it writes packets it
// builds itself and reads what the stack under test sent.
type rawPeer struct {
	t     *testing.T
	end   *link.PipeEnd
	stack *Stack
	addr  netip.Addr // the peer's own address
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	a, b := link.Pipe(link.PipeConfig{})
	sec := [16]byte{9}
	s, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr, server6}, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); a.Close() })
	return &rawPeer{t: t, end: a, stack: s, addr: clientAddr.Addr()}
}

// next returns the next packet the stack sent, failing after a second.
func (p *rawPeer) next() []byte {
	p.t.Helper()
	type res struct {
		pkt []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		buf := make([]byte, 65536)
		bufs, sizes := [][]byte{buf}, []int{0}
		n, err := p.end.ReadPackets(bufs, sizes)
		if n == 0 {
			ch <- res{nil, err}
			return
		}
		ch <- res{buf[:sizes[0]], nil}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			p.t.Fatal(r.err)
		}
		return r.pkt
	case <-time.After(time.Second):
		p.t.Fatal("the stack sent nothing")
		return nil
	}
}

func (p *rawPeer) send(pkt []byte) {
	p.t.Helper()
	if err := p.end.WritePackets([][]byte{pkt}); err != nil {
		p.t.Fatal(err)
	}
}

// ipPacket wraps payload in an IPv4 or IPv6 header from src to dst.
func ipPacket(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	if src.Is4() {
		b := make([]byte, wire.IPv4HeaderLen+len(payload))
		wire.EncodeIPv4(b, &wire.IPv4Fields{Src: src, Dst: dst, Protocol: proto, TTL: 64, PayloadLen: len(payload)})
		copy(b[wire.IPv4HeaderLen:], payload)
		return b
	}
	b := make([]byte, wire.IPv6HeaderLen+len(payload))
	wire.EncodeIPv6(b, &wire.IPv6Fields{Src: src, Dst: dst, NextHeader: proto, HopLimit: 64, PayloadLen: len(payload)})
	copy(b[wire.IPv6HeaderLen:], payload)
	return b
}

// tcpPacket builds a TCP segment in an IP packet with a valid checksum.
func tcpPacket(src, dst netip.Addr, f wire.TCPFields, o *wire.Options, payload []byte) []byte {
	seg := make([]byte, wire.TCPSegmentLen(o, len(payload)))
	wire.EncodeTCP(seg, &f, o, payload)
	wire.TCP(seg).SetChecksum(wire.TCPChecksum(src, dst, seg))
	return ipPacket(src, dst, wire.ProtoTCP, seg)
}

// icmpPacket builds an ICMP or ICMPv6 message in an IP packet.
func icmpPacket(src, dst netip.Addr, typ, code uint8, rest uint32, body []byte) []byte {
	m := make([]byte, wire.ICMPHeaderLen+len(body))
	if src.Is4() {
		wire.EncodeICMP(m, typ, code, rest, body, 0)
		return ipPacket(src, dst, wire.ProtoICMP, m)
	}
	wire.EncodeICMP(m, typ, code, rest, body, wire.PseudoHeaderSum(src, dst, wire.ProtoICMPv6, len(m)))
	return ipPacket(src, dst, wire.ProtoICMPv6, m)
}

// tcpOf returns the TCP segment of an IPv4 or IPv6 packet.
func tcpOf(t *testing.T, pkt []byte) wire.TCP {
	t.Helper()
	ip, err := wire.ParseIPPacket(pkt)
	if err != nil || ip.Protocol() != wire.ProtoTCP {
		t.Fatalf("not TCP over IP: %v", err)
	}
	seg, err := wire.ParseTCP(ip.Payload())
	if err != nil {
		t.Fatal(err)
	}
	return seg
}
