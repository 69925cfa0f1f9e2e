package wire

import (
	"encoding/binary"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header (RFC 8200 §3).
const IPv6HeaderLen = 40

// IPv6 is a view over an IPv6 packet (RFC 8200 §3). Build one with
// ParseIPv6 or EncodeIPv6. Extension headers are not walked: Payload
// starts right after the fixed header and NextHeader names what is there.
type IPv6 []byte

// ParseIPv6 checks b's version and that the payload length fits in b, and
// returns the first 40+payload-length bytes of b as a view. Jumbograms
// (RFC 2675, payload length 0 with a hop-by-hop option) are not supported:
// their payload reads as empty.
func ParseIPv6(b []byte) (IPv6, error) {
	if len(b) < IPv6HeaderLen {
		return nil, ErrIPv6Short
	}
	if b[0]>>4 != 6 {
		return nil, ErrIPv6Version
	}
	n := IPv6HeaderLen + int(binary.BigEndian.Uint16(b[4:6]))
	if n > len(b) {
		return nil, ErrIPv6PayloadLen
	}
	return IPv6(b[:n]), nil
}

func (h IPv6) word0() uint32 { return binary.BigEndian.Uint32(h[0:4]) }

// TrafficClass returns the traffic class byte (DSCP and ECN).
func (h IPv6) TrafficClass() uint8 { return uint8(h.word0() >> 20) }

// FlowLabel returns the 20-bit flow label.
func (h IPv6) FlowLabel() uint32 { return h.word0() & 0xfffff }

// PayloadLen returns the payload length field.
func (h IPv6) PayloadLen() int { return int(binary.BigEndian.Uint16(h[4:6])) }

// NextHeader returns the next header field.
func (h IPv6) NextHeader() uint8 { return h[6] }

// HopLimit returns the hop limit.
func (h IPv6) HopLimit() uint8 { return h[7] }

// Src returns the source address.
func (h IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(h[8:24])) }

// Dst returns the destination address.
func (h IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(h[24:40])) }

// Payload returns the bytes after the fixed header, up to the payload
// length.
func (h IPv6) Payload() []byte { return h[IPv6HeaderLen : IPv6HeaderLen+h.PayloadLen()] }

// IPv6Fields are the header fields EncodeIPv6 writes.
type IPv6Fields struct {
	Src, Dst                           netip.Addr
	NextHeader, HopLimit, TrafficClass uint8
	FlowLabel                          uint32 // only the low 20 bits are used
	PayloadLen                         int
}

// EncodeIPv6 writes a 40-byte IPv6 header (RFC 8200 §3) and returns 40.
// It returns 0 if b is shorter than 40 bytes, either address is not IPv6,
// or the payload length does not fit in 16 bits.
func EncodeIPv6(b []byte, f *IPv6Fields) int {
	if len(b) < IPv6HeaderLen || !f.Src.Is6() || !f.Dst.Is6() || f.PayloadLen < 0 || f.PayloadLen > 0xffff {
		return 0
	}
	binary.BigEndian.PutUint32(b[0:4], 6<<28|uint32(f.TrafficClass)<<20|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:6], uint16(f.PayloadLen))
	b[6] = f.NextHeader
	b[7] = f.HopLimit
	s, d := f.Src.As16(), f.Dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	return IPv6HeaderLen
}
