package wire

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// ipv4Packet lays out a header with ihl words, the given fragment field
// and options, fixes its checksum and appends payload and trailing bytes.
func ipv4Packet(ihl int, frag uint16, payload []byte, trailing int) []byte {
	hl := ihl * 4
	b := make([]byte, hl+len(payload)+trailing)
	b[0] = 0x40 | byte(ihl)
	b[1] = 0xb8 // DSCP EF
	binary.BigEndian.PutUint16(b[2:], uint16(hl+len(payload)))
	binary.BigEndian.PutUint16(b[4:], 0xbeef)
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = 63, ProtoTCP
	copy(b[12:], []byte{192, 0, 2, 1, 198, 51, 100, 7})
	for i := 20; i < hl; i++ {
		b[i] = 1 // NOP options (RFC 791 §3.1)
	}
	binary.BigEndian.PutUint16(b[10:], Fold(Sum(b[:hl], 0)))
	copy(b[hl:], payload)
	return b
}

func TestParseIPv4Errors(t *testing.T) {
	good := ipv4Packet(5, 0, []byte("data"), 0)
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"nil", nil, ErrIPv4Short},
		{"19 bytes", good[:19], ErrIPv4Short},
		{"version 6", mod(func(b []byte) { b[0] = 0x65 }), ErrIPv4Version},
		{"version 0", mod(func(b []byte) { b[0] = 0x05 }), ErrIPv4Version},
		{"IHL 4", mod(func(b []byte) { b[0] = 0x44 }), ErrIPv4HeaderLen},
		{"IHL 0", mod(func(b []byte) { b[0] = 0x40 }), ErrIPv4HeaderLen},
		{"IHL past packet", mod(func(b []byte) { b[0] = 0x4f }), ErrIPv4HeaderLen},
		{"total below header", mod(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 19) }), ErrIPv4TotalLen},
		{"total past packet", mod(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 25) }), ErrIPv4TotalLen},
		{"bad checksum", mod(func(b []byte) { b[8]-- }), ErrIPv4Checksum},
		{"truncated payload", good[:23], ErrIPv4TotalLen},
		{"good", good, nil},
	}
	for _, tt := range tests {
		h, err := ParseIPv4(tt.in)
		if err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
		if err != nil && h != nil {
			t.Errorf("%s: non-nil view with error", tt.name)
		}
	}
}

func TestIPv4Accessors(t *testing.T) {
	tests := []struct {
		name     string
		ihl      int
		frag     uint16
		trailing int
		df, mf   bool
		offset   int
		fragment bool
	}{
		{"plain", 5, 0, 0, false, false, 0, false},
		{"DF", 5, 0x4000, 0, true, false, 0, false},
		{"MF first fragment", 5, 0x2000, 0, false, true, 0, true},
		{"last fragment", 5, 0x00b9, 0, false, false, 185 * 8, true},
		{"middle fragment", 5, 0x2001, 0, false, true, 8, true},
		{"max offset", 5, 0x1fff, 0, false, false, 0x1fff * 8, true},
		{"options", 6, 0x4000, 0, true, false, 0, false},
		{"max options", 15, 0, 0, false, false, 0, false},
		{"ethernet padding", 5, 0x4000, 6, true, false, 0, false},
	}
	payload := []byte("payload bytes")
	for _, tt := range tests {
		b := ipv4Packet(tt.ihl, tt.frag, payload, tt.trailing)
		h, err := ParseIPv4(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		hl := tt.ihl * 4
		checks := []struct {
			name      string
			got, want any
		}{
			{"len", len(h), hl + len(payload)},
			{"HeaderLen", h.HeaderLen(), hl},
			{"TOS", h.TOS(), uint8(0xb8)},
			{"TotalLen", h.TotalLen(), hl + len(payload)},
			{"ID", h.ID(), uint16(0xbeef)},
			{"DontFragment", h.DontFragment(), tt.df},
			{"MoreFragments", h.MoreFragments(), tt.mf},
			{"FragmentOffset", h.FragmentOffset(), tt.offset},
			{"IsFragment", h.IsFragment(), tt.fragment},
			{"TTL", h.TTL(), uint8(63)},
			{"Protocol", h.Protocol(), uint8(ProtoTCP)},
			{"Checksum", h.Checksum(), binary.BigEndian.Uint16(b[10:])},
			{"Src", h.Src(), v4a},
			{"Dst", h.Dst(), v4b},
			{"Options", string(h.Options()), string(bytes.Repeat([]byte{1}, hl-20))},
			{"Payload", string(h.Payload()), string(payload)},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %v, want %v", tt.name, c.name, c.got, c.want)
			}
		}
	}
}

func TestIPv4WorkedExample(t *testing.T) {
	b := make([]byte, 0x73)
	copy(b, []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7})
	h, err := ParseIPv4(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Src() != netip.MustParseAddr("192.168.0.1") || h.Dst() != netip.MustParseAddr("192.168.0.199") ||
		h.Protocol() != 17 || h.TTL() != 64 || !h.DontFragment() || len(h.Payload()) != 0x73-20 {
		t.Fatalf("fields wrong: %v %v %d %d", h.Src(), h.Dst(), h.Protocol(), h.TTL())
	}
}

func TestEncodeIPv4(t *testing.T) {
	tests := []IPv4Fields{
		{Src: v4a, Dst: v4b, Protocol: ProtoTCP, TTL: 64, TOS: 0, ID: 1, DontFragment: true, PayloadLen: 40},
		{Src: v4b, Dst: v4a, Protocol: ProtoICMP, TTL: 255, TOS: 0xff, ID: 0xffff, PayloadLen: 0},
		{Src: netip.MustParseAddr("0.0.0.0"), Dst: netip.MustParseAddr("255.255.255.255"),
			Protocol: 250, TTL: 1, TOS: 2, ID: 0x8000, DontFragment: true, PayloadLen: 65515},
		{Src: netip.MustParseAddr("::ffff:192.0.2.1"), Dst: netip.MustParseAddr("::ffff:198.51.100.7"),
			Protocol: ProtoTCP, TTL: 9, PayloadLen: 3},
	}
	for _, f := range tests {
		b := make([]byte, IPv4HeaderLen+f.PayloadLen)
		if n := EncodeIPv4(b, &f); n != IPv4HeaderLen {
			t.Fatalf("%+v: EncodeIPv4 = %d", f, n)
		}
		h, err := ParseIPv4(b)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		got := IPv4Fields{h.Src(), h.Dst(), h.Protocol(), h.TTL(), h.TOS(), h.ID(), h.DontFragment(), len(h.Payload())}
		want := f
		want.Src, want.Dst = f.Src.Unmap(), f.Dst.Unmap()
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		if h.HeaderLen() != 20 || h.IsFragment() || h.MoreFragments() {
			t.Fatalf("%+v: unexpected header bits", f)
		}
	}
}

func TestEncodeIPv4Rejects(t *testing.T) {
	good := IPv4Fields{Src: v4a, Dst: v4b, Protocol: ProtoTCP, TTL: 64}
	tests := []struct {
		name string
		buf  int
		mod  func(f *IPv4Fields)
	}{
		{"short buffer", 19, func(*IPv4Fields) {}},
		{"IPv6 source", 20, func(f *IPv4Fields) { f.Src = v6a }},
		{"IPv6 destination", 20, func(f *IPv4Fields) { f.Dst = v6a }},
		{"zero address", 20, func(f *IPv4Fields) { f.Src = netip.Addr{} }},
		{"payload too long", 20, func(f *IPv4Fields) { f.PayloadLen = 65516 }},
		{"negative payload", 20, func(f *IPv4Fields) { f.PayloadLen = -1 }},
	}
	for _, tt := range tests {
		f := good
		tt.mod(&f)
		if n := EncodeIPv4(make([]byte, tt.buf), &f); n != 0 {
			t.Errorf("%s: EncodeIPv4 = %d, want 0", tt.name, n)
		}
	}
}

func TestIPVersion(t *testing.T) {
	tests := []struct {
		in   []byte
		want int
	}{
		{nil, 0},
		{[]byte{0x45}, 4},
		{[]byte{0x60, 0, 0, 0}, 6},
		{[]byte{0xf0}, 15},
	}
	for _, tt := range tests {
		if got := IPVersion(tt.in); got != tt.want {
			t.Errorf("IPVersion(% x) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
