package wire

import (
	"encoding/binary"
	"net/netip"
)

// IPPacket is a view over one IPv4 or IPv6 packet that answers, for
// either version, what demultiplexing asks: who sent it, to whom, which
// protocol it carries and where that protocol's bytes start. It is a
// value (a slice and a header length), so parsing allocates nothing.
type IPPacket struct {
	b    []byte
	hlen int
}

// ParseIPPacket checks b as ParseIPv4 or ParseIPv6 would, chosen by the
// version nibble, and returns the packet trimmed to its stated length.
func ParseIPPacket(b []byte) (IPPacket, error) {
	switch IPVersion(b) {
	case 4:
		ip, err := ParseIPv4(b)
		if err != nil {
			return IPPacket{}, err
		}
		return IPPacket{b: ip, hlen: ip.HeaderLen()}, nil
	case 6:
		ip, err := ParseIPv6(b)
		if err != nil {
			return IPPacket{}, err
		}
		return IPPacket{b: ip, hlen: IPv6HeaderLen}, nil
	}
	return IPPacket{}, ErrIPVersion
}

// ParseQuotedIP parses the invoking packet an ICMP error carries: its IP
// header and at least the first 8 bytes of what followed (RFC 792; RFC
// 4443 §3 quotes as much as fits). The quote may be cut short, so its
// length fields are not checked against len(b), nor the IPv4 checksum,
// which the router computed before it changed the TTL.
func ParseQuotedIP(b []byte) (IPPacket, error) {
	hlen := 0
	switch IPVersion(b) {
	case 4:
		if len(b) < IPv4HeaderLen {
			return IPPacket{}, ErrIPv4Short
		}
		hlen = int(b[0]&0x0f) * 4
		if hlen < IPv4HeaderLen {
			return IPPacket{}, ErrIPv4HeaderLen
		}
	case 6:
		hlen = IPv6HeaderLen
	default:
		return IPPacket{}, ErrIPVersion
	}
	if len(b) < hlen+8 {
		return IPPacket{}, ErrQuoteShort
	}
	return IPPacket{b: b, hlen: hlen}, nil
}

// Version is 4 or 6.
func (p IPPacket) Version() int { return IPVersion(p.b) }

// Bytes is the whole packet, header included.
func (p IPPacket) Bytes() []byte { return p.b }

// Header is the IP header: IPv4 options included; for IPv6 the fixed
// 40 bytes.
func (p IPPacket) Header() []byte { return p.b[:p.hlen] }

// Payload is what follows the header. Extension headers are not walked:
// for IPv6, Protocol names what Payload starts with.
func (p IPPacket) Payload() []byte { return p.b[p.hlen:] }

// IPv4 returns the packet as an IPv4 view; call it only when Version is 4.
func (p IPPacket) IPv4() IPv4 { return IPv4(p.b) }

// IPv6 returns the packet as an IPv6 view; call it only when Version is 6.
func (p IPPacket) IPv6() IPv6 { return IPv6(p.b) }

// Src is the source address.
func (p IPPacket) Src() netip.Addr {
	if p.Version() == 4 {
		return netip.AddrFrom4([4]byte(p.b[12:16]))
	}
	return netip.AddrFrom16([16]byte(p.b[8:24]))
}

// Dst is the destination address.
func (p IPPacket) Dst() netip.Addr {
	if p.Version() == 4 {
		return netip.AddrFrom4([4]byte(p.b[16:20]))
	}
	return netip.AddrFrom16([16]byte(p.b[24:40]))
}

// Protocol is the IPv4 protocol field or the IPv6 next header.
func (p IPPacket) Protocol() uint8 {
	if p.Version() == 4 {
		return p.b[9]
	}
	return p.b[6]
}

// TrafficClass is the IPv4 type-of-service byte or the IPv6 traffic
// class: DSCP in the top six bits, ECN in the low two.
func (p IPPacket) TrafficClass() uint8 {
	if p.Version() == 4 {
		return p.b[1]
	}
	return uint8(binary.BigEndian.Uint32(p.b[0:4]) >> 20)
}

// ECN is the explicit congestion notification codepoint (RFC 3168 §5).
func (p IPPacket) ECN() uint8 { return p.TrafficClass() & 3 }

// HopLimit is the IPv4 TTL or the IPv6 hop limit.
func (p IPPacket) HopLimit() uint8 {
	if p.Version() == 4 {
		return p.b[8]
	}
	return p.b[7]
}

// FlowLabel is the IPv6 flow label; IPv4 has none and reads 0.
func (p IPPacket) FlowLabel() uint32 {
	if p.Version() == 4 {
		return 0
	}
	return binary.BigEndian.Uint32(p.b[0:4]) & 0xfffff
}

// IsFragment reports an IPv4 packet that is one fragment of a larger
// datagram. IPv6 fragments arrive behind a Fragment extension header
// (RFC 8200 §4.5), so Protocol names it instead.
func (p IPPacket) IsFragment() bool {
	return p.Version() == 4 && IPv4(p.b).IsFragment()
}

// TCPQuote reads the ports and sequence number from the first 8 bytes of
// a TCP header, all an ICMP error is sure to quote (RFC 792, RFC 5927 §4).
func TCPQuote(b []byte) (srcPort, dstPort uint16, seq uint32, ok bool) {
	if len(b) < 8 {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4]), binary.BigEndian.Uint32(b[4:8]), true
}
