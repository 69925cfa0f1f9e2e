package threeway

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// icmpRate bounds the ICMP errors the stack sends per second
// (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
const icmpRate = 100

const protoUDP = 17

// icmpLimiter is a one-second window counter.
type icmpLimiter struct {
	start time.Duration
	sent  int
}

func (l *icmpLimiter) allow(now time.Duration) bool {
	if now-l.start >= time.Second || now < l.start {
		l.start, l.sent = now, 0
	}
	if l.sent >= icmpRate {
		return false
	}
	l.sent++
	return true
}

// inputICMPv4 answers echo requests (RFC 792, RFC 1122 §3.2.2.6) and
// passes errors about our TCP segments to their connection.
func (s *Stack) inputICMPv4(now time.Duration, ip wire.IPv4) {
	m, err := wire.ParseICMPv4(ip.Payload())
	if err != nil {
		s.dropPacket(tcp.DropMalformed)
		return
	}
	switch m.Type() {
	case wire.ICMPv4EchoRequest:
		if ip.Dst().IsMulticast() {
			return
		}
		if !s.isLocal(ip.Dst()) {
			s.forwardEcho(ip.Src(), ip.Dst(), m.RestOfHeader(), m.Body())
			return
		}
		s.sendICMP(ip.Dst(), ip.Src(), wire.ICMPv4EchoReply, 0, m.RestOfHeader(), m.Body())
	case wire.ICMPv4EchoReply:
		s.pingInput(ip.Src(), ip.Dst(), m)
	case wire.ICMPv4DestUnreach:
		switch m.Code() {
		case wire.ICMPv4ProtoUnreach, wire.ICMPv4PortUnreach:
			s.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		case wire.ICMPv4FragNeeded:
			s.icmpToConn(now, m.Body(), tcp.ICMPPacketTooBig, int(m.RestOfHeader()&0xffff), 0)
		case 0:
			s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.ENETUNREACH)
		default:
			s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv4TimeExceeded, wire.ICMPv4ParamProblem:
		s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
	case wire.ICMPv4SourceQuench:
		// RFC 9293 §3.9.2.2 (MUST-55): silently discarded.
	}
}

// inputICMPv6 is inputICMPv4 for ICMPv6 (RFC 4443).
func (s *Stack) inputICMPv6(now time.Duration, ip wire.IPv6) {
	m, err := wire.ParseICMPv6(ip.Src(), ip.Dst(), ip.Payload())
	if err != nil {
		s.dropPacket(tcp.DropMalformed)
		return
	}
	switch m.Type() {
	case wire.ICMPv6EchoRequest:
		if !s.isLocal(ip.Dst()) {
			s.forwardEcho(ip.Src(), ip.Dst(), m.RestOfHeader(), m.Body())
			return
		}
		s.sendICMP(ip.Dst(), ip.Src(), wire.ICMPv6EchoReply, 0, m.RestOfHeader(), m.Body())
	case wire.ICMPv6EchoReply:
		s.pingInput(ip.Src(), ip.Dst(), m)
	case wire.ICMPv6DestUnreach:
		switch m.Code() {
		case wire.ICMPv6PortUnreach:
			s.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		case 0:
			s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.ENETUNREACH)
		default:
			s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv6PacketTooBig:
		s.icmpToConn(now, m.Body(), tcp.ICMPPacketTooBig, int(m.RestOfHeader()), 0)
	case wire.ICMPv6ParamProblem:
		if m.Code() == wire.ICMPv6UnknownNextHdr {
			s.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		} else {
			s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv6TimeExceeded:
		s.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
	}
}

// icmpToConn finds the connection an ICMP error's invoking packet came
// from (its IP header and at least 8 bytes of TCP header, RFC 792) and
// tells it.
func (s *Stack) icmpToConn(now time.Duration, inv []byte, kind tcp.ICMPKind, mtu int, soft syscall.Errno) {
	if s.icmpToUDP(inv, kind) {
		return
	}
	ip, err := wire.ParseQuotedIP(inv)
	if err != nil || ip.Protocol() != wire.ProtoTCP {
		return
	}
	sport, dport, seq, _ := wire.TCPQuote(ip.Payload())
	t := tcp.Tuple{LocalAddr: ip.Src(), RemoteAddr: ip.Dst(), LocalPort: sport, RemotePort: dport}
	c := s.conns[t]
	if c == nil {
		return
	}
	if c.tcb.ICMPError(now, kind, seqnum.Value(seq), mtu, soft) {
		s.markDirty(c)
	}
}

// unreachable answers a packet for a protocol the stack does not speak:
// port unreachable for UDP, protocol unreachable otherwise (RFC 1122
// §3.2.2.1, §4.1.3.1; RFC 4443 §3.1, §3.4), within the ICMP rate limit.
// pkt is the whole invoking packet.
func (s *Stack) unreachable(now time.Duration, src, dst netip.Addr, proto uint8, pkt []byte) {
	if dst.IsMulticast() || src.IsMulticast() || src.IsUnspecified() || !s.icmpLimit.allow(now) {
		return
	}
	// As much of the invoking packet as fits the minimum MTU (RFC 1812
	// §4.3.2.3, RFC 4443 §2.4(c)), and the link's.
	mtu := s.link.MTU()
	room := max(min(576, mtu)-wire.IPv4HeaderLen-wire.ICMPHeaderLen, 0)
	if dst.Is4() {
		code := uint8(wire.ICMPv4ProtoUnreach)
		if proto == protoUDP {
			code = wire.ICMPv4PortUnreach
		}
		s.sendICMP(dst, src, wire.ICMPv4DestUnreach, code, 0, pkt[:min(len(pkt), room)])
		return
	}
	room = max(min(1280, mtu)-wire.IPv6HeaderLen-wire.ICMPHeaderLen, 0)
	if proto == protoUDP {
		s.sendICMP(dst, src, wire.ICMPv6DestUnreach, wire.ICMPv6PortUnreach, 0, pkt[:min(len(pkt), room)])
		return
	}
	// Parameter problem pointing at the Next Header field (offset 6).
	s.sendICMP(dst, src, wire.ICMPv6ParamProblem, wire.ICMPv6UnknownNextHdr, 6, pkt[:min(len(pkt), room)])
}

// sendICMP builds and queues one ICMP or ICMPv6 message from src to dst.
func (s *Stack) sendICMP(src, dst netip.Addr, typ, code uint8, rest uint32, body []byte) {
	if len(s.tx.pkts) == len(s.tx.bufs) {
		s.writeBatch()
	}
	buf := s.tx.bufs[len(s.tx.pkts)]
	if src.Is4() {
		n := wire.EncodeICMP(buf[wire.IPv4HeaderLen:], typ, code, rest, body, 0)
		if n == 0 {
			return
		}
		s.ipID++
		wire.EncodeIPv4(buf, &wire.IPv4Fields{Src: src, Dst: dst, Protocol: wire.ProtoICMP, TTL: 64, ID: s.ipID, PayloadLen: n})
		s.tx.pkts = append(s.tx.pkts, buf[:wire.IPv4HeaderLen+n])
		return
	}
	n := len(body) + wire.ICMPHeaderLen
	pseudo := wire.PseudoHeaderSum(src, dst, wire.ProtoICMPv6, n)
	if wire.EncodeICMP(buf[wire.IPv6HeaderLen:], typ, code, rest, body, pseudo) == 0 {
		return
	}
	wire.EncodeIPv6(buf, &wire.IPv6Fields{Src: src, Dst: dst, NextHeader: wire.ProtoICMPv6, HopLimit: 64, PayloadLen: n})
	s.tx.pkts = append(s.tx.pkts, buf[:wire.IPv6HeaderLen+n])
}
