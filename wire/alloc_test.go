package wire

import (
	"net/netip"
	"testing"
)

// sink keeps results alive so the compiler cannot drop the work.
var sink uint64

func TestParsingDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation may allocate")
	}
	o := &Options{HasMSS: true, MSS: 1460, HasTimestamps: true, TSVal: 1, TSEcr: 2,
		NumSACK: 2, SACK: [4]SACKBlock{{1, 2}, {3, 4}}}
	seg := mustTCP(TCPFields{SrcPort: 1, DstPort: 2, Flags: FlagACK}, o, make([]byte, 100))
	v4 := make([]byte, IPv4HeaderLen+len(seg))
	EncodeIPv4(v4, &IPv4Fields{Src: v4a, Dst: v4b, Protocol: ProtoTCP, TTL: 64, PayloadLen: len(seg)})
	copy(v4[IPv4HeaderLen:], seg)
	v6 := make([]byte, IPv6HeaderLen+len(seg))
	EncodeIPv6(v6, &IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 64, PayloadLen: len(seg)})
	copy(v6[IPv6HeaderLen:], seg)
	out := make([]byte, 1600)

	cases := []struct {
		name string
		f    func()
	}{
		{"ParseTCP+Options", func() {
			s, err := ParseTCP(seg)
			var po Options
			if err != nil || s.Options(&po) != nil {
				panic("parse")
			}
			sink += uint64(s.Seq()) + uint64(po.TSVal) + uint64(len(s.Payload()))
		}},
		{"ParseIPv4", func() {
			h, err := ParseIPv4(v4)
			if err != nil {
				panic(err)
			}
			src, dst := h.Src(), h.Dst()
			sink += uint64(h.TotalLen()) + uint64(src.As4()[0]) + uint64(dst.As4()[3])
		}},
		{"ParseIPv6", func() {
			h, err := ParseIPv6(v6)
			if err != nil {
				panic(err)
			}
			src, dst := h.Src(), h.Dst()
			sink += uint64(h.PayloadLen()) + uint64(src.As16()[0]) + uint64(dst.As16()[15])
		}},
		{"Sum", func() { sink += uint64(Sum(seg, 0)) }},
		{"VerifyTCPChecksum", func() {
			if VerifyTCPChecksum(v4a, v4b, seg) {
				sink++
			}
			sink += uint64(TCPChecksum(v6a, v6b, seg))
		}},
		{"EncodeTCP", func() {
			sink += uint64(EncodeTCP(out, &TCPFields{Flags: FlagACK}, o, seg[:50]))
		}},
		{"EncodeIPv4+IPv6", func() {
			f4 := IPv4Fields{Src: v4a, Dst: v4b, Protocol: ProtoTCP, TTL: 64, PayloadLen: 100}
			f6 := IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 64, PayloadLen: 100}
			sink += uint64(EncodeIPv4(out, &f4) + EncodeIPv6(out, &f6))
		}},
		{"PseudoHeaderSum", func() {
			sink += uint64(PseudoHeaderSum(netip.AddrFrom4([4]byte{1, 2, 3, 4}), v4b, ProtoTCP, 20))
		}},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, n)
		}
	}
}
