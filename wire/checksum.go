package wire

import (
	"encoding/binary"
	"math/bits"
)

// Sum adds b to the one's complement partial sum initial and returns the
// new partial sum, folded to 16 bits but not complemented (RFC 1071 §1(1)).
// An odd trailing byte is padded with zero, so only the last buffer in a
// chain of calls may have odd length.
//
// It is the hot path of every segment, so it reads eight bytes at a time
// in the machine's little-endian order and swaps the folded result once
// (RFC 1071 §2(B): the sum is byte-order independent), and it keeps two
// independent carry chains so the adds can overlap (§2(C)).
func Sum(b []byte, initial uint32) uint32 {
	// Carry the big-endian initial value into the little-endian domain.
	acc0 := uint64(bits.ReverseBytes16(uint16(fold64(uint64(initial)))))
	var acc1, c0, c1 uint64
	for len(b) >= 64 {
		acc0, c0 = bits.Add64(acc0, binary.LittleEndian.Uint64(b[0:8]), c0)
		acc1, c1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[8:16]), c1)
		acc0, c0 = bits.Add64(acc0, binary.LittleEndian.Uint64(b[16:24]), c0)
		acc1, c1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[24:32]), c1)
		acc0, c0 = bits.Add64(acc0, binary.LittleEndian.Uint64(b[32:40]), c0)
		acc1, c1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[40:48]), c1)
		acc0, c0 = bits.Add64(acc0, binary.LittleEndian.Uint64(b[48:56]), c0)
		acc1, c1 = bits.Add64(acc1, binary.LittleEndian.Uint64(b[56:64]), c1)
		b = b[64:]
	}
	for len(b) >= 8 {
		acc0, c0 = bits.Add64(acc0, binary.LittleEndian.Uint64(b), c0)
		b = b[8:]
	}
	// The tail starts on an even offset, so any 16-bit lane will do.
	if len(b) >= 4 {
		acc0, c0 = bits.Add64(acc0, uint64(binary.LittleEndian.Uint32(b)), c0)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc0, c0 = bits.Add64(acc0, uint64(binary.LittleEndian.Uint16(b)), c0)
		b = b[2:]
	}
	if len(b) == 1 {
		acc0, c0 = bits.Add64(acc0, uint64(b[0]), c0)
	}
	// Merge the chains with end-around carry: 2^64 is 1 modulo 2^64-1.
	acc0, c := bits.Add64(acc0, acc1, c0)
	acc0, c = bits.Add64(acc0, c1, c)
	acc0, c = bits.Add64(acc0, 0, c)
	acc0 += c
	return uint32(bits.ReverseBytes16(uint16(fold64(acc0))))
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
