package wire

import (
	"encoding/binary"
	"net/netip"
)

// ProtoUDP is UDP's IP protocol number (RFC 768).
const ProtoUDP = 17

// UDPHeaderLen is the length of the UDP header (RFC 768).
const UDPHeaderLen = 8

// UDP errors (RFC 768, RFC 8200 §8.1).
const (
	ErrUDPShort        Error = "udp: datagram shorter than 8 bytes"
	ErrUDPLength       Error = "udp: length field below 8 or past the packet"
	ErrUDPChecksum     Error = "udp: bad checksum"
	ErrUDPZeroChecksum Error = "udp: zero checksum over IPv6"
)

// UDP is a view over a UDP datagram (RFC 768). Build one with ParseUDP
// or EncodeUDP.
type UDP []byte

// ParseUDP checks a datagram from src to dst: its length field (at least
// the header, at most len(b); bytes past it are IP padding and dropped
// from the view) and its checksum over the pseudo-header. A zero checksum
// means "not computed" and is accepted over IPv4 (RFC 768) but not over
// IPv6, where the checksum is mandatory (RFC 8200 §8.1).
func ParseUDP(src, dst netip.Addr, b []byte) (UDP, error) {
	if len(b) < UDPHeaderLen {
		return nil, ErrUDPShort
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n < UDPHeaderLen || n > len(b) {
		return nil, ErrUDPLength
	}
	b = b[:n]
	if binary.BigEndian.Uint16(b[6:8]) == 0 {
		if !src.Is4() {
			return nil, ErrUDPZeroChecksum
		}
		return UDP(b), nil
	}
	if Fold(Sum(b, PseudoHeaderSum(src, dst, ProtoUDP, n))) != 0 {
		return nil, ErrUDPChecksum
	}
	return UDP(b), nil
}

// SrcPort returns the source port (0: none, RFC 768).
func (u UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(u[0:2]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return binary.BigEndian.Uint16(u[2:4]) }

// Length returns the length field: header plus data.
func (u UDP) Length() int { return int(binary.BigEndian.Uint16(u[4:6])) }

// Checksum returns the checksum field.
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:8]) }

// Payload returns the data after the header.
func (u UDP) Payload() []byte { return u[UDPHeaderLen:] }

// UDPChecksum returns the value to store in the checksum field of dgram,
// a whole datagram from src to dst whose checksum field is ignored. A sum
// that comes out as zero is sent as all ones (RFC 768): zero would mean
// "no checksum".
func UDPChecksum(src, dst netip.Addr, dgram []byte) uint16 {
	sum := PseudoHeaderSum(src, dst, ProtoUDP, len(dgram))
	sum = Sum(dgram[:min(len(dgram), 6)], sum)
	if len(dgram) > UDPHeaderLen {
		sum = Sum(dgram[UDPHeaderLen:], sum)
	}
	c := Fold(sum)
	if c == 0 {
		c = 0xffff
	}
	return c
}

// EncodeUDP writes a datagram from src:sport to dst:dport carrying
// payload into b, checksum included, and returns its length. payload may
// already sit at b[8:], where it is left in place. It returns 0 if b is
// too small or the datagram would not fit the 16-bit length field.
func EncodeUDP(b []byte, src, dst netip.Addr, sport, dport uint16, payload []byte) int {
	n := UDPHeaderLen + len(payload)
	if len(b) < n || n > 0xffff {
		return 0
	}
	copy(b[UDPHeaderLen:], payload)
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(n))
	binary.BigEndian.PutUint16(b[6:8], UDPChecksum(src, dst, b[:n]))
	return n
}
