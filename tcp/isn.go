package tcp

import (
	"encoding/binary"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// ISNGenerator chooses initial sequence numbers as RFC 9293 §3.4.1 and
// RFC 6528 §3 say: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a timer ticking every 4 microseconds and F is a
// keyed pseudorandom function (SipHash-2-4 here). Successive connections on
// one 4-tuple get increasing ISNs; an observer without the key cannot
// predict another tuple's ISN.
type ISNGenerator struct {
	k0, k1 uint64
}

// NewISNGenerator returns a generator keyed by secret, which the caller
// draws from a cryptographic random source once per stack.
func NewISNGenerator(secret [16]byte) ISNGenerator {
	return ISNGenerator{
		k0: binary.LittleEndian.Uint64(secret[:8]),
		k1: binary.LittleEndian.Uint64(secret[8:]),
	}
}

// ISN returns the initial sequence number for t at time now.
func (g *ISNGenerator) ISN(now time.Duration, t Tuple) seqnum.Value {
	var buf [36]byte
	la := t.LocalAddr.As16()
	ra := t.RemoteAddr.As16()
	copy(buf[0:16], la[:])
	copy(buf[16:32], ra[:])
	binary.BigEndian.PutUint16(buf[32:], t.LocalPort)
	binary.BigEndian.PutUint16(buf[34:], t.RemotePort)
	f := sipHash24(g.k0, g.k1, buf[:])
	m := uint32(now / (4 * time.Microsecond))
	return seqnum.Value(m + uint32(f))
}

// Hash returns the keyed hash of b; other parts of the stack (timestamp
// offsets, SYN cookies) use it so that one secret serves them all.
func (g *ISNGenerator) Hash(b []byte) uint64 { return sipHash24(g.k0, g.k1, b) }
