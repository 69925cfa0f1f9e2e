package wire

import (
	"encoding/binary"
	"net/netip"
)

// refSum is a plain RFC 1071 reference: 16 bits at a time, then fold.
func refSum(b []byte, initial uint32) uint32 {
	s := uint64(initial)
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint32(s)
}

// wantEncoded is what Encode promises to write for o: the known options,
// with SACK blocks clamped and trimmed to fit and stale blocks cleared.
func wantEncoded(o Options) Options {
	k := o.sackToSend(o.fixedLen())
	o.NumSACK = k
	for i := k; i < len(o.SACK); i++ {
		o.SACK[i] = SACKBlock{}
	}
	return o
}

var (
	v4a = netip.MustParseAddr("192.0.2.1")
	v4b = netip.MustParseAddr("198.51.100.7")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8:ffff::abcd")
)

// mustTCP builds a segment for tests.
func mustTCP(f TCPFields, o *Options, payload []byte) []byte {
	b := make([]byte, TCPSegmentLen(o, len(payload)))
	if EncodeTCP(b, &f, o, payload) != len(b) {
		panic("EncodeTCP")
	}
	return b
}
