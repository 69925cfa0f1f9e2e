package link

import (
	"math/rand/v2"
	"time"
)

// Impairments applies to one direction of a Pipe. Every random choice
// comes from the pipe's seeded math/rand/v2 PCG source, so a run is
// reproducible from its seed (given the same packet order).
type Impairments struct {
	// Probabilities per packet, 0..1. Corrupt flips one random bit in a
	// random byte past the first 20 bytes (so the IPv4 header checksum
	// still lets it route but the TCP checksum fails), or in any byte of a
	// packet of 20 bytes or less.
	Loss, Duplicate, Reorder, Corrupt float64
	// CE is the probability that an ECN-capable packet (ECT(0) or ECT(1)
	// in the IP header, RFC 3168 §5) is marked Congestion Experienced,
	// as an AQM router would instead of dropping it.
	CE float64
	// Delay is the one-way delay; each packet adds a uniform jitter in
	// [0, Jitter). A reordered packet is held back by an extra
	// Delay+ReorderDelay.
	Delay, Jitter time.Duration
	// ReorderDelay is 1ms if zero.
	ReorderDelay time.Duration
	// Bandwidth is in bits per second, 0 meaning unlimited. Packets
	// queue behind each other for their serialization time.
	Bandwidth int64
	// Drop, if set, is called for every packet before the random
	// impairments; true drops it. Calls for one direction are serialized,
	// under a lock of the Pipe, so Drop must not use the Pipe.
	Drop func(pkt []byte) bool
}

// none reports whether the impairments leave packets untouched, allowing
// the direct copy-to-peer path.
func (m *Impairments) none() bool {
	return m.Loss <= 0 && m.Duplicate <= 0 && m.Reorder <= 0 && m.Corrupt <= 0 && m.CE <= 0 &&
		m.Delay <= 0 && m.Jitter <= 0 && m.Bandwidth <= 0 && m.Drop == nil
}

func (m *Impairments) reorderDelay() time.Duration {
	if m.ReorderDelay == 0 {
		return time.Millisecond
	}
	return m.ReorderDelay
}

// serialization returns how long n bytes occupy the link at Bandwidth.
func (m *Impairments) serialization(n int) time.Duration {
	return time.Duration(int64(n) * 8 * int64(time.Second) / m.Bandwidth)
}

// chance draws from rng only for a nonzero probability, so that enabling
// one impairment does not perturb the draws of a run without it.
func chance(rng *rand.Rand, p float64) bool {
	return p > 0 && rng.Float64() < p
}

// corrupt flips one random bit of pkt, past the IPv4 header when there is
// anything past it.
func corrupt(rng *rand.Rand, pkt []byte) {
	switch {
	case len(pkt) > 20:
		pkt[20+rng.IntN(len(pkt)-20)] ^= 1 << rng.IntN(8)
	case len(pkt) > 0:
		pkt[rng.IntN(len(pkt))] ^= 1 << rng.IntN(8)
	}
}

// ecnCapable reports whether an IP packet carries ECT(0) or ECT(1).
func ecnCapable(pkt []byte) bool {
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		e := pkt[1] & 3
		return e == 1 || e == 2
	case len(pkt) >= 40 && pkt[0]>>4 == 6:
		e := pkt[1] >> 4 & 3
		return e == 1 || e == 2
	}
	return false
}

// markCE sets an ECN-capable packet's ECN field to CE (RFC 3168 §5). For
// IPv4 the header checksum is updated incrementally (RFC 1624 eqn. 3):
// the field sits in the header's first 16-bit word.
func markCE(pkt []byte) {
	if pkt[0]>>4 == 6 {
		pkt[1] |= 3 << 4
		return
	}
	old := uint16(pkt[0])<<8 | uint16(pkt[1])
	pkt[1] |= 3
	new := uint16(pkt[0])<<8 | uint16(pkt[1])
	sum := uint32(^(uint16(pkt[10])<<8 | uint16(pkt[11]))) + uint32(^old) + uint32(new)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	ck := ^uint16(sum)
	pkt[10], pkt[11] = byte(ck>>8), byte(ck)
}
