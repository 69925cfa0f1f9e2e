package wire

import (
	"encoding/binary"
	"net/netip"
)

// PseudoHeaderSum returns the partial sum of the pseudo-header for a
// transport segment of length bytes: the IPv4 one of RFC 9293 §3.1 when
// src is an IPv4 address, otherwise the IPv6 one of RFC 8200 §8.1.
// Addresses of the wrong family are read as their 16-byte form and never
// cause a panic.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	s, d := src.As16(), dst.As16()
	var sum uint64
	if src.Is4() {
		// Source, destination, zero and protocol, TCP length.
		sum = uint64(binary.BigEndian.Uint32(s[12:])) + uint64(binary.BigEndian.Uint32(d[12:]))
	} else {
		// Source, destination, 32-bit length, zeros and next header.
		for i := 0; i < 16; i += 4 {
			sum += uint64(binary.BigEndian.Uint32(s[i:])) + uint64(binary.BigEndian.Uint32(d[i:]))
		}
	}
	// A 32-bit length adds up the same as its two 16-bit halves.
	sum += uint64(proto) + uint64(uint32(length))
	return uint32(fold64(sum))
}

// TCPChecksum returns the value to store in seg's checksum field for a
// segment from src to dst (RFC 9293 §3.1). The field's current content is
// ignored: it is summed as zero.
func TCPChecksum(src, dst netip.Addr, seg []byte) uint16 {
	sum := PseudoHeaderSum(src, dst, ProtoTCP, len(seg))
	if len(seg) < 18 {
		return Fold(Sum(seg[:min(len(seg), 16)], sum))
	}
	sum = Sum(seg[:16], sum)
	return Fold(Sum(seg[18:], sum))
}

// VerifyTCPChecksum reports whether seg's checksum is right for a segment
// from src to dst: the sum over pseudo-header and segment, checksum
// included, must be all ones (RFC 1071 §1(3)).
func VerifyTCPChecksum(src, dst netip.Addr, seg []byte) bool {
	return Fold(Sum(seg, PseudoHeaderSum(src, dst, ProtoTCP, len(seg)))) == 0
}
