package wire

import (
	"encoding/binary"
	"math/bits"
)

// Sum adds b to the one's complement partial sum initial and returns the
// new partial sum, folded to 16 bits but not complemented (RFC 1071 §1(1)).
// An odd trailing byte is padded with zero, so only the last buffer in a
// chain of calls may have odd length. It reads eight bytes at a time and
// adds them with end-around carry, which RFC 1071 §2(C) shows gives the
// same 16-bit sum.
func Sum(b []byte, initial uint32) uint32 {
	acc := uint64(initial)
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:32]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	// The tail starts on an even offset, so any 16-bit lane will do.
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0])<<8, c)
	}
	// End-around carry: 2^64 is 1 modulo 2^64-1.
	acc, c = bits.Add64(acc, 0, c)
	acc += c
	return uint32(fold64(acc))
}

// fold64 reduces a 64-bit one's complement sum to 16 bits.
func fold64(s uint64) uint64 {
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return s
}

// Fold folds the carries of a partial sum into 16 bits and complements
// it, giving the value for a checksum field (RFC 1071 §1(2)).
func Fold(sum uint32) uint16 {
	return ^uint16(fold64(uint64(sum)))
}
