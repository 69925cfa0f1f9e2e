package wire

import (
	"bytes"
	"testing"
)

// seedSegments are valid segments covering the option layouts.
func seedSegments() [][]byte {
	var out [][]byte
	for i, o := range optionCombos() {
		if i%3 != 0 {
			continue
		}
		out = append(out, mustTCP(TCPFields{SrcPort: 1, DstPort: 2, Seq: 3, Flags: FlagSYN}, &o, []byte("abc")))
	}
	return out
}

func FuzzParseTCP(f *testing.F) {
	for _, s := range seedSegments() {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 20))
	f.Add(append([]byte{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 2, 0, 0, 0, 0, 0, 0},
		2, 4, 0, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 26, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6))
	f.Fuzz(func(t *testing.T, data []byte) {
		seg, err := ParseTCP(data)
		if err != nil {
			return
		}
		// Every accessor must be safe on a parsed view.
		_ = seg.SrcPort() + seg.DstPort() + seg.Window() + seg.Checksum() + seg.Urgent()
		_ = seg.Seq() + seg.Ack()
		_ = seg.Flags().String()
		if seg.HeaderLen() < TCPHeaderLen || seg.HeaderLen() > len(seg) ||
			len(seg.OptionBytes())+TCPHeaderLen+len(seg.Payload()) != len(seg) {
			t.Fatalf("inconsistent lengths: hl %d len %d", seg.HeaderLen(), len(seg))
		}
		var o Options
		if err := seg.Options(&o); err != nil {
			if err != ErrOptionLength && err != ErrOptionMalformed {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Re-encoding what was parsed and parsing it again must give
		// the same options (less SACK blocks Encode had to drop).
		want := wantEncoded(o)
		var buf [MaxOptionsLen]byte
		n := o.Encode(buf[:])
		if n != o.Len() || n%4 != 0 {
			t.Fatalf("Encode = %d, Len = %d", n, o.Len())
		}
		var o2 Options
		if err := ParseOptions(buf[:n], &o2); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if o2 != want {
			t.Fatalf("round trip\ngot  %+v\nwant %+v", o2, want)
		}
		// The whole segment re-encodes to the same fields and payload.
		fields := TCPFields{seg.SrcPort(), seg.DstPort(), seg.Seq(), seg.Ack(), seg.Flags(), seg.Window(), seg.Urgent()}
		out := make([]byte, TCPSegmentLen(&o, len(seg.Payload())))
		if EncodeTCP(out, &fields, &o, seg.Payload()) != len(out) {
			t.Fatal("EncodeTCP failed")
		}
		seg2, err := ParseTCP(out)
		if err != nil {
			t.Fatal(err)
		}
		var o3 Options
		if err := seg2.Options(&o3); err != nil || o3 != want {
			t.Fatalf("segment options %+v, %v", o3, err)
		}
		if !bytes.Equal(seg2.Payload(), seg.Payload()) || seg2.Flags() != seg.Flags() ||
			seg2.Seq() != seg.Seq() || seg2.Ack() != seg.Ack() || seg2.Window() != seg.Window() {
			t.Fatal("segment fields differ")
		}
	})
}

func FuzzParseIPv4(f *testing.F) {
	f.Add(ipv4Packet(5, 0, []byte("hi"), 0))
	f.Add(ipv4Packet(6, 0x4000, nil, 3))
	f.Add(ipv4Packet(15, 0x2001, []byte("x"), 0))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseIPv4(data)
		if err != nil {
			return
		}
		hl := h.HeaderLen()
		if hl < IPv4HeaderLen || hl > h.TotalLen() || h.TotalLen() != len(h) ||
			len(h.Options()) != hl-IPv4HeaderLen || len(h.Payload()) != h.TotalLen()-hl {
			t.Fatalf("inconsistent lengths: hl %d total %d len %d", hl, h.TotalLen(), len(h))
		}
		if Fold(Sum(h[:hl], 0)) != 0 {
			t.Fatal("accepted a bad checksum")
		}
		_ = h.FragmentOffset() + int(h.ID()) + int(h.TTL()) + int(h.TOS())
		_ = h.DontFragment() || h.MoreFragments() || h.IsFragment()
		// Re-encode the fields without options and parse again.
		fields := IPv4Fields{Src: h.Src(), Dst: h.Dst(), Protocol: h.Protocol(), TTL: h.TTL(),
			TOS: h.TOS(), ID: h.ID(), DontFragment: h.DontFragment(), PayloadLen: len(h.Payload())}
		out := make([]byte, IPv4HeaderLen+fields.PayloadLen)
		if EncodeIPv4(out, &fields) != IPv4HeaderLen {
			t.Fatal("EncodeIPv4 failed")
		}
		copy(out[IPv4HeaderLen:], h.Payload())
		h2, err := ParseIPv4(out)
		if err != nil {
			t.Fatal(err)
		}
		got := IPv4Fields{h2.Src(), h2.Dst(), h2.Protocol(), h2.TTL(), h2.TOS(), h2.ID(), h2.DontFragment(), len(h2.Payload())}
		if got != fields || !bytes.Equal(h2.Payload(), h.Payload()) {
			t.Fatalf("re-encode: got %+v, want %+v", got, fields)
		}
	})
}

func FuzzParseIPv6(f *testing.F) {
	b := make([]byte, 45)
	EncodeIPv6(b, &IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 9, FlowLabel: 7, PayloadLen: 5})
	f.Add(b)
	f.Add(b[:40])
	f.Add([]byte{0x60})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseIPv6(data)
		if err != nil {
			return
		}
		if len(h) != IPv6HeaderLen+h.PayloadLen() || len(h.Payload()) != h.PayloadLen() {
			t.Fatalf("inconsistent lengths: payload %d len %d", h.PayloadLen(), len(h))
		}
		fields := IPv6Fields{Src: h.Src(), Dst: h.Dst(), NextHeader: h.NextHeader(), HopLimit: h.HopLimit(),
			TrafficClass: h.TrafficClass(), FlowLabel: h.FlowLabel(), PayloadLen: h.PayloadLen()}
		out := make([]byte, IPv6HeaderLen)
		if EncodeIPv6(out, &fields) != IPv6HeaderLen {
			t.Fatal("EncodeIPv6 failed")
		}
		if !bytes.Equal(out, h[:IPv6HeaderLen]) {
			t.Fatalf("re-encode differs:\n% x\n% x", out, h[:IPv6HeaderLen])
		}
	})
}

func FuzzChecksum(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, uint32(0))
	f.Add(bytes.Repeat([]byte{0xff}, 67), uint32(0xffffffff))
	f.Add([]byte{1}, uint32(0x1ffff))
	f.Fuzz(func(t *testing.T, data []byte, initial uint32) {
		got, want := Sum(data, initial), refSum(data, initial)
		if got != want {
			t.Fatalf("Sum = %#x, reference %#x (len %d)", got, want, len(data))
		}
		if got > 0xffff {
			t.Fatalf("Sum not folded: %#x", got)
		}
		if len(data) >= 2 {
			mid := len(data) / 2 &^ 1
			if c := Sum(data[mid:], Sum(data[:mid], initial)); c != got {
				t.Fatalf("chained Sum = %#x, whole %#x", c, got)
			}
		}
	})
}
