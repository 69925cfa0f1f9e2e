package wire

import (
	"encoding/binary"
	"net/netip"
)

// IPv4HeaderLen is the length of an IPv4 header without options
// (RFC 791 §3.1).
const IPv4HeaderLen = 20

// IPv4 flag bits in the 16-bit flags and fragment offset field.
const (
	ipv4DF         = 0x4000
	ipv4MF         = 0x2000
	ipv4OffsetMask = 0x1fff
)

// IPv4 is a view over an IPv4 packet (RFC 791 §3.1). Build one with
// ParseIPv4 or EncodeIPv4.
type IPv4 []byte

// ParseIPv4 checks b's version, header length (IHL of at least 5 words),
// total length (from the header length up to len(b)) and header checksum,
// and returns the first total-length bytes of b as a view, dropping any
// link-layer padding after them.
func ParseIPv4(b []byte) (IPv4, error) {
	if len(b) < IPv4HeaderLen {
		return nil, ErrIPv4Short
	}
	if b[0]>>4 != 4 {
		return nil, ErrIPv4Version
	}
	hl := int(b[0]&0x0f) * 4
	if hl < IPv4HeaderLen || hl > len(b) {
		return nil, ErrIPv4HeaderLen
	}
	tl := int(binary.BigEndian.Uint16(b[2:4]))
	if tl < hl || tl > len(b) {
		return nil, ErrIPv4TotalLen
	}
	if Fold(Sum(b[:hl], 0)) != 0 {
		return nil, ErrIPv4Checksum
	}
	return IPv4(b[:tl]), nil
}

// HeaderLen returns the header length in bytes, options included.
func (h IPv4) HeaderLen() int { return int(h[0]&0x0f) * 4 }

// TOS returns the type of service byte (DSCP and ECN).
func (h IPv4) TOS() uint8 { return h[1] }

// TotalLen returns the total length field: header plus payload.
func (h IPv4) TotalLen() int { return int(binary.BigEndian.Uint16(h[2:4])) }

// ID returns the identification field.
func (h IPv4) ID() uint16 { return binary.BigEndian.Uint16(h[4:6]) }

func (h IPv4) fragField() uint16 { return binary.BigEndian.Uint16(h[6:8]) }

// DontFragment reports the DF flag.
func (h IPv4) DontFragment() bool { return h.fragField()&ipv4DF != 0 }

// MoreFragments reports the MF flag.
func (h IPv4) MoreFragments() bool { return h.fragField()&ipv4MF != 0 }

// FragmentOffset returns the fragment offset in bytes (the field counts
// 8-byte units).
func (h IPv4) FragmentOffset() int { return int(h.fragField()&ipv4OffsetMask) * 8 }

// IsFragment reports whether the packet is a fragment: MF set or a
// nonzero offset.
func (h IPv4) IsFragment() bool { return h.fragField()&(ipv4MF|ipv4OffsetMask) != 0 }

// TTL returns the time to live.
func (h IPv4) TTL() uint8 { return h[8] }

// Protocol returns the payload's protocol number.
func (h IPv4) Protocol() uint8 { return h[9] }

// Checksum returns the header checksum field.
func (h IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(h[10:12]) }

// Src returns the source address.
func (h IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(h[12:16])) }

// Dst returns the destination address.
func (h IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(h[16:20])) }

// Options returns the header options, between byte 20 and the header length.
func (h IPv4) Options() []byte { return h[IPv4HeaderLen:h.HeaderLen()] }

// Payload returns the bytes between the header and the total length.
func (h IPv4) Payload() []byte { return h[h.HeaderLen():h.TotalLen()] }

// IPv4Fields are the header fields EncodeIPv4 writes.
type IPv4Fields struct {
	Src, Dst           netip.Addr
	Protocol, TTL, TOS uint8
	ID                 uint16
	DontFragment       bool
	PayloadLen         int
}

// EncodeIPv4 writes a 20-byte IPv4 header with no options, no fragment
// bits but DF, and a valid checksum (RFC 791 §3.1), and returns 20. It
// returns 0 if b is shorter than 20 bytes, either address is not IPv4
// (IPv4-mapped IPv6 is accepted), or the total length would not fit in
// 16 bits.
func EncodeIPv4(b []byte, f *IPv4Fields) int {
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	tl := IPv4HeaderLen + f.PayloadLen
	if len(b) < IPv4HeaderLen || !src.Is4() || !dst.Is4() || f.PayloadLen < 0 || tl > 0xffff {
		return 0
	}
	b[0] = 4<<4 | IPv4HeaderLen/4
	b[1] = f.TOS
	binary.BigEndian.PutUint16(b[2:4], uint16(tl))
	binary.BigEndian.PutUint16(b[4:6], f.ID)
	var frag uint16
	if f.DontFragment {
		frag = ipv4DF
	}
	binary.BigEndian.PutUint16(b[6:8], frag)
	b[8] = f.TTL
	b[9] = f.Protocol
	binary.BigEndian.PutUint16(b[10:12], 0)
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:12], Fold(Sum(b[:IPv4HeaderLen], 0)))
	return IPv4HeaderLen
}
