package host

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// ICMPRate bounds the ICMP errors the stack sends per second
// (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
const ICMPRate = 100

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
	if l.sent >= ICMPRate {
		return false
	}
	l.sent++
	return true
}

// inputICMPv4 answers echo requests (RFC 792, RFC 1122 §3.2.2.6) and
// passes errors about our TCP segments to their connection.
func (h *Host) inputICMPv4(now time.Duration, ip wire.IPv4) {
	h.stats.ICMP.InMsgs++
	m, err := wire.ParseICMPv4(ip.Payload())
	if err != nil {
		h.stats.ICMP.InErrors++
		h.Drop(tcp.DropMalformed)
		return
	}
	switch m.Type() {
	case wire.ICMPv4EchoRequest:
		if ip.Dst().IsMulticast() {
			return
		}
		if !h.IsLocal(ip.Dst()) {
			h.forwardEcho(ip.Src(), ip.Dst(), m.RestOfHeader(), m.Body())
			return
		}
		h.sendICMP(ip.Dst(), ip.Src(), wire.ICMPv4EchoReply, 0, m.RestOfHeader(), m.Body())
	case wire.ICMPv4EchoReply:
		h.pingInput(ip.Src(), ip.Dst(), m)
	case wire.ICMPv4DestUnreach:
		switch m.Code() {
		case wire.ICMPv4ProtoUnreach, wire.ICMPv4PortUnreach:
			h.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		case wire.ICMPv4FragNeeded:
			h.icmpToConn(now, m.Body(), tcp.ICMPPacketTooBig, int(m.RestOfHeader()&0xffff), 0)
		case 0:
			h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.ENETUNREACH)
		default:
			h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv4TimeExceeded, wire.ICMPv4ParamProblem:
		h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
	case wire.ICMPv4SourceQuench:
		// RFC 9293 §3.9.2.2 (MUST-55): silently discarded.
	}
}

// inputICMPv6 is inputICMPv4 for ICMPv6 (RFC 4443).
func (h *Host) inputICMPv6(now time.Duration, ip wire.IPv6) {
	h.stats.ICMP.InMsgs++
	m, err := wire.ParseICMPv6(ip.Src(), ip.Dst(), ip.Payload())
	if err != nil {
		h.stats.ICMP.InErrors++
		h.Drop(tcp.DropMalformed)
		return
	}
	switch m.Type() {
	case wire.ICMPv6EchoRequest:
		if !h.IsLocal(ip.Dst()) {
			h.forwardEcho(ip.Src(), ip.Dst(), m.RestOfHeader(), m.Body())
			return
		}
		h.sendICMP(ip.Dst(), ip.Src(), wire.ICMPv6EchoReply, 0, m.RestOfHeader(), m.Body())
	case wire.ICMPv6EchoReply:
		h.pingInput(ip.Src(), ip.Dst(), m)
	case wire.ICMPv6DestUnreach:
		switch m.Code() {
		case wire.ICMPv6PortUnreach:
			h.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		case 0:
			h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.ENETUNREACH)
		default:
			h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv6PacketTooBig:
		h.icmpToConn(now, m.Body(), tcp.ICMPPacketTooBig, int(m.RestOfHeader()), 0)
	case wire.ICMPv6ParamProblem:
		if m.Code() == wire.ICMPv6UnknownNextHdr {
			h.icmpToConn(now, m.Body(), tcp.ICMPHard, 0, 0)
		} else {
			h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
		}
	case wire.ICMPv6TimeExceeded:
		h.icmpToConn(now, m.Body(), tcp.ICMPSoft, 0, syscall.EHOSTUNREACH)
	}
}

// icmpToConn finds the connection an ICMP error's invoking packet came
// from (its IP header and at least 8 bytes of TCP header, RFC 792) and
// tells it.
func (h *Host) icmpToConn(now time.Duration, inv []byte, kind tcp.ICMPKind, mtu int, soft syscall.Errno) {
	if h.icmpToUDP(inv, kind) {
		return
	}
	ip, err := wire.ParseQuotedIP(inv)
	if err != nil || ip.Protocol() != wire.ProtoTCP {
		return
	}
	sport, dport, seq, _ := wire.TCPQuote(ip.Payload())
	t := tcp.Tuple{LocalAddr: ip.Src(), RemoteAddr: ip.Dst(), LocalPort: sport, RemotePort: dport}
	c := h.conns[t]
	if c == nil {
		return
	}
	if c.tcb.ICMPError(now, kind, seqnum.Value(seq), mtu, soft) {
		h.Touch(c)
	}
}

// unreachable answers a packet for a protocol the stack does not speak:
// port unreachable for UDP, protocol unreachable otherwise (RFC 1122
// §3.2.2.1, §4.1.3.1; RFC 4443 §3.1, §3.4), within the ICMP rate limit.
// pkt is the whole invoking packet.
func (h *Host) unreachable(now time.Duration, src, dst netip.Addr, proto uint8, pkt []byte) {
	if dst.IsMulticast() || src.IsMulticast() || src.IsUnspecified() {
		return
	}
	if !h.icmpLimit.allow(now) {
		h.stats.ICMP.RateLimited++
		return
	}
	h.stats.ICMP.OutErrors++
	// As much of the invoking packet as fits the minimum MTU (RFC 1812
	// §4.3.2.3, RFC 4443 §2.4(c)), and the link'h.
	mtu := h.mtu
	room := max(min(576, mtu)-wire.IPv4HeaderLen-wire.ICMPHeaderLen, 0)
	if dst.Is4() {
		code := uint8(wire.ICMPv4ProtoUnreach)
		if proto == protoUDP {
			code = wire.ICMPv4PortUnreach
		}
		h.sendICMP(dst, src, wire.ICMPv4DestUnreach, code, 0, pkt[:min(len(pkt), room)])
		return
	}
	room = max(min(1280, mtu)-wire.IPv6HeaderLen-wire.ICMPHeaderLen, 0)
	if proto == protoUDP {
		h.sendICMP(dst, src, wire.ICMPv6DestUnreach, wire.ICMPv6PortUnreach, 0, pkt[:min(len(pkt), room)])
		return
	}
	// Parameter problem pointing at the Next Header field (offset 6).
	h.sendICMP(dst, src, wire.ICMPv6ParamProblem, wire.ICMPv6UnknownNextHdr, 6, pkt[:min(len(pkt), room)])
}

// sendICMP builds and queues one ICMP or ICMPv6 message from src to dst,
// counted and traced.
func (h *Host) sendICMP(src, dst netip.Addr, typ, code uint8, rest uint32, body []byte) {
	buf := h.tx.slot()
	var n int
	if src.Is4() {
		n = wire.EncodeICMP(buf[wire.IPv4HeaderLen:], typ, code, rest, body, 0)
		if n == 0 {
			return
		}
		n += h.encodeIP(buf, src, dst, wire.ProtoICMP, n, 0, false)
	} else {
		m := len(body) + wire.ICMPHeaderLen
		pseudo := wire.PseudoHeaderSum(src, dst, wire.ProtoICMPv6, m)
		if wire.EncodeICMP(buf[wire.IPv6HeaderLen:], typ, code, rest, body, pseudo) == 0 {
			return
		}
		n = m + h.encodeIP(buf, src, dst, wire.ProtoICMPv6, m, 0, false)
	}
	h.tx.commit(n, PacketMeta{})
	h.stats.ICMP.OutMsgs++
	if h.icmpTrace != nil {
		h.icmpTrace.ICMP(Outbound, typ, code, buf[:n])
	}
}

// SendUnreachableFor answers a forwarded UDP flow's client with port
// unreachable from the flow's destination, quoting a datagram of the
// flow's (RFC 792; RFC 4443 §3.1), within the ICMP rate limit.
func (h *Host) SendUnreachableFor(now time.Duration, s *Socket) {
	if s.flow == nil {
		return
	}
	client, dst := s.remote, s.local
	var quote [wire.IPv6HeaderLen + wire.UDPHeaderLen]byte
	ipLen := wire.IPv6HeaderLen
	if dst.Addr().Is4() {
		ipLen = wire.IPv4HeaderLen
	}
	wire.EncodeUDP(quote[ipLen:], client.Addr(), dst.Addr(), client.Port(), dst.Port(), nil)
	if ipLen == wire.IPv4HeaderLen {
		wire.EncodeIPv4(quote[:], &wire.IPv4Fields{Src: client.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoUDP, TTL: 64, PayloadLen: wire.UDPHeaderLen})
	} else {
		wire.EncodeIPv6(quote[:], &wire.IPv6Fields{Src: client.Addr(), Dst: dst.Addr(), NextHeader: wire.ProtoUDP, HopLimit: 64, PayloadLen: wire.UDPHeaderLen})
	}
	if !h.icmpLimit.allow(now) {
		h.stats.ICMP.RateLimited++
		return
	}
	h.stats.ICMP.OutErrors++
	if dst.Addr().Is4() {
		h.sendICMP(dst.Addr(), client.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, quote[:ipLen+wire.UDPHeaderLen])
	} else {
		h.sendICMP(dst.Addr(), client.Addr(), wire.ICMPv6DestUnreach, wire.ICMPv6PortUnreach, 0, quote[:ipLen+wire.UDPHeaderLen])
	}
}
