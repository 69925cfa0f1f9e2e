package wire

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestParseIPv6Errors(t *testing.T) {
	good := make([]byte, 44)
	f := IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 64, PayloadLen: 4}
	EncodeIPv6(good, &f)
	mod := func(fn func(b []byte)) []byte {
		b := bytes.Clone(good)
		fn(b)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"nil", nil, ErrIPv6Short},
		{"39 bytes", good[:39], ErrIPv6Short},
		{"version 4", mod(func(b []byte) { b[0] = 0x45 }), ErrIPv6Version},
		{"version 7", mod(func(b []byte) { b[0] = 0x70 }), ErrIPv6Version},
		{"payload past packet", good[:43], ErrIPv6PayloadLen},
		{"payload length max", mod(func(b []byte) { binary.BigEndian.PutUint16(b[4:], 0xffff) }), ErrIPv6PayloadLen},
		{"good", good, nil},
		{"zero payload", mod(func(b []byte) { binary.BigEndian.PutUint16(b[4:], 0) }), nil},
	}
	for _, tt := range tests {
		h, err := ParseIPv6(tt.in)
		if err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
		if err != nil && h != nil {
			t.Errorf("%s: non-nil view with error", tt.name)
		}
	}
}

func TestIPv6Accessors(t *testing.T) {
	// Hand-laid: version 6, traffic class 0xa5, flow label 0x12345.
	b := []byte{
		0x6a, 0x51, 0x23, 0x45,
		0x00, 0x03, ProtoTCP, 0x40,
	}
	s, d := v6a.As16(), v6b.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = append(b, 'a', 'b', 'c', 0xee, 0xee) // two trailing bytes
	h, err := ParseIPv6(b)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"len", len(h), 43},
		{"TrafficClass", h.TrafficClass(), uint8(0xa5)},
		{"FlowLabel", h.FlowLabel(), uint32(0x12345)},
		{"PayloadLen", h.PayloadLen(), 3},
		{"NextHeader", h.NextHeader(), uint8(ProtoTCP)},
		{"HopLimit", h.HopLimit(), uint8(64)},
		{"Src", h.Src(), v6a},
		{"Dst", h.Dst(), v6b},
		{"Payload", string(h.Payload()), "abc"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestEncodeIPv6(t *testing.T) {
	tests := []IPv6Fields{
		{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 64, PayloadLen: 20},
		{Src: v6b, Dst: v6a, NextHeader: ProtoICMPv6, HopLimit: 255, TrafficClass: 0xff, FlowLabel: 0xfffff, PayloadLen: 0},
		{Src: netip.IPv6Unspecified(), Dst: netip.MustParseAddr("ff02::1"), NextHeader: 0, HopLimit: 1,
			TrafficClass: 0x12, FlowLabel: 1, PayloadLen: 65535},
		{Src: netip.MustParseAddr("::ffff:192.0.2.1"), Dst: v6a, NextHeader: ProtoTCP, HopLimit: 3, PayloadLen: 1},
	}
	for _, f := range tests {
		b := make([]byte, IPv6HeaderLen+f.PayloadLen)
		if n := EncodeIPv6(b, &f); n != IPv6HeaderLen {
			t.Fatalf("%+v: EncodeIPv6 = %d", f, n)
		}
		h, err := ParseIPv6(b)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		got := IPv6Fields{h.Src(), h.Dst(), h.NextHeader(), h.HopLimit(), h.TrafficClass(), h.FlowLabel(), len(h.Payload())}
		if got != f {
			t.Fatalf("got %+v, want %+v", got, f)
		}
		if IPVersion(b) != 6 {
			t.Fatal("version")
		}
	}
	// Only the low 20 bits of the flow label are written.
	b := make([]byte, IPv6HeaderLen)
	EncodeIPv6(b, &IPv6Fields{Src: v6a, Dst: v6b, TrafficClass: 0x0f, FlowLabel: 0xfff12345})
	if h := IPv6(b); h.FlowLabel() != 0x12345 || h.TrafficClass() != 0x0f || IPVersion(b) != 6 {
		t.Fatalf("flow label spilled: % x", b[:4])
	}
}

func TestEncodeIPv6Rejects(t *testing.T) {
	good := IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoTCP, HopLimit: 64}
	tests := []struct {
		name string
		buf  int
		mod  func(f *IPv6Fields)
	}{
		{"short buffer", 39, func(*IPv6Fields) {}},
		{"IPv4 source", 40, func(f *IPv6Fields) { f.Src = v4a }},
		{"IPv4 destination", 40, func(f *IPv6Fields) { f.Dst = v4a }},
		{"zero address", 40, func(f *IPv6Fields) { f.Dst = netip.Addr{} }},
		{"payload too long", 40, func(f *IPv6Fields) { f.PayloadLen = 65536 }},
		{"negative payload", 40, func(f *IPv6Fields) { f.PayloadLen = -1 }},
	}
	for _, tt := range tests {
		f := good
		tt.mod(&f)
		if n := EncodeIPv6(make([]byte, tt.buf), &f); n != 0 {
			t.Errorf("%s: EncodeIPv6 = %d, want 0", tt.name, n)
		}
	}
}
