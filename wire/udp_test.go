package wire

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

func mustUDP(t testing.TB, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	t.Helper()
	b := make([]byte, UDPHeaderLen+len(payload))
	if EncodeUDP(b, src, dst, sport, dport, payload) != len(b) {
		t.Fatal("EncodeUDP failed")
	}
	return b
}

func TestUDPRoundTrip(t *testing.T) {
	for _, fam := range []struct {
		name     string
		src, dst netip.Addr
	}{{"v4", v4a, v4b}, {"v6", v6a, v6b}} {
		for _, size := range []int{0, 1, 2, 7, 8, 100, 1472} {
			p := make([]byte, size)
			for i := range p {
				p[i] = byte(i*7 + size)
			}
			b := mustUDP(t, fam.src, fam.dst, 5353, 53, p)
			u, err := ParseUDP(fam.src, fam.dst, b)
			if err != nil {
				t.Fatalf("%s/%d: %v", fam.name, size, err)
			}
			if u.SrcPort() != 5353 || u.DstPort() != 53 || u.Length() != len(b) || !bytes.Equal(u.Payload(), p) {
				t.Fatalf("%s/%d: fields %d %d %d %x", fam.name, size, u.SrcPort(), u.DstPort(), u.Length(), u.Payload())
			}
			if u.Checksum() == 0 {
				t.Fatalf("%s/%d: zero checksum sent", fam.name, size)
			}
		}
	}
}

// RFC 768: a computed checksum of zero is transmitted as all ones, since
// zero means the sender computed none.
func TestUDPChecksumZeroSentAsOnes(t *testing.T) {
	// Find a payload whose checksum comes out zero by choosing its last
	// two bytes: with them zero the sum is S; adding ^S makes it 0xffff,
	// whose complement is zero.
	p := []byte{1, 2, 3, 4, 0, 0}
	b := mustUDP(t, v4a, v4b, 1, 2, p)
	binary.BigEndian.PutUint16(b[6:8], 0)
	s := Fold(Sum(b, PseudoHeaderSum(v4a, v4b, ProtoUDP, len(b))))
	binary.BigEndian.PutUint16(p[4:], s)
	b = mustUDP(t, v4a, v4b, 1, 2, p)
	if got := UDP(b).Checksum(); got != 0xffff {
		t.Fatalf("checksum = %#04x, want 0xffff", got)
	}
	if _, err := ParseUDP(v4a, v4b, b); err != nil {
		t.Fatal(err)
	}
}

func TestParseUDPRejects(t *testing.T) {
	good4 := mustUDP(t, v4a, v4b, 1000, 2000, []byte("hello"))
	good6 := mustUDP(t, v6a, v6b, 1000, 2000, []byte("hello"))
	with := func(b []byte, f func(b []byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	cases := []struct {
		name     string
		src, dst netip.Addr
		b        []byte
		want     error
	}{
		{"empty", v4a, v4b, nil, ErrUDPShort},
		{"7 bytes", v4a, v4b, good4[:7], ErrUDPShort},
		{"length 7", v4a, v4b, with(good4, func(b []byte) { b[4], b[5] = 0, 7 }), ErrUDPLength},
		{"length past packet", v4a, v4b, with(good4, func(b []byte) { b[5]++ }), ErrUDPLength},
		{"truncated", v4a, v4b, good4[:len(good4)-1], ErrUDPLength},
		{"bad checksum v4", v4a, v4b, with(good4, func(b []byte) { b[9] ^= 1 }), ErrUDPChecksum},
		{"bad checksum v6", v6a, v6b, with(good6, func(b []byte) { b[9] ^= 1 }), ErrUDPChecksum},
		{"wrong pseudo-header", v4a, netip.MustParseAddr("203.0.113.9"), good4, ErrUDPChecksum},
		// RFC 8200 §8.1: IPv6 receivers discard zero-checksum UDP.
		{"zero checksum v6", v6a, v6b, with(good6, func(b []byte) { b[6], b[7] = 0, 0 }), ErrUDPZeroChecksum},
	}
	for _, c := range cases {
		if _, err := ParseUDP(c.src, c.dst, c.b); err != c.want {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// RFC 768: an IPv4 sender may omit the checksum (zero).
	z := with(good4, func(b []byte) { b[6], b[7] = 0, 0; b[9] ^= 0xff })
	if u, err := ParseUDP(v4a, v4b, z); err != nil || len(u.Payload()) != 5 {
		t.Errorf("zero checksum v4: %v", err)
	}
	// Bytes past the length field are IP padding, not data.
	padded := append(append([]byte(nil), good4...), 0, 0, 0)
	if u, err := ParseUDP(v4a, v4b, padded); err != nil || string(u.Payload()) != "hello" {
		t.Errorf("padded: %q %v", u, err)
	}
}

func TestEncodeUDPLimits(t *testing.T) {
	if EncodeUDP(make([]byte, 10), v4a, v4b, 1, 2, make([]byte, 3)) != 0 {
		t.Error("encoded into a short buffer")
	}
	if EncodeUDP(make([]byte, 70000), v4a, v4b, 1, 2, make([]byte, 0xffff-7)) != 0 {
		t.Error("encoded a length that does not fit 16 bits")
	}
	// In place: the payload already at b[8:].
	b := make([]byte, 13)
	copy(b[8:], "world")
	if n := EncodeUDP(b, v6a, v6b, 3, 4, b[8:]); n != 13 {
		t.Fatal(n)
	}
	if u, err := ParseUDP(v6a, v6b, b); err != nil || string(u.Payload()) != "world" {
		t.Fatalf("in place: %q %v", u, err)
	}
}

func TestParseUDPDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation may allocate")
	}
	b := mustUDP(t, v6a, v6b, 1, 2, make([]byte, 512))
	out := make([]byte, 600)
	if n := testing.AllocsPerRun(100, func() {
		u, err := ParseUDP(v6a, v6b, b)
		if err != nil {
			panic(err)
		}
		sink += uint64(u.SrcPort()) + uint64(EncodeUDP(out, v6a, v6b, 1, 2, u.Payload()))
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzParseUDP(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(make([]byte, 8), false)
	f.Add(make([]byte, 8), true)
	f.Add(mustUDP(f, v4a, v4b, 53, 5353, []byte("query")), false)
	f.Add(mustUDP(f, v6a, v6b, 53, 5353, []byte("query")), true)
	f.Add([]byte{0, 1, 0, 2, 0, 8, 0, 0}, false)
	f.Add([]byte{0, 1, 0, 2, 0xff, 0xff, 0, 0, 1}, false)
	f.Fuzz(func(t *testing.T, data []byte, v6 bool) {
		src, dst := v4a, v4b
		if v6 {
			src, dst = v6a, v6b
		}
		u, err := ParseUDP(src, dst, data)
		if err != nil {
			switch err {
			case ErrUDPShort, ErrUDPLength, ErrUDPChecksum, ErrUDPZeroChecksum:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if u.Length() != len(u) || len(u.Payload())+UDPHeaderLen != len(u) || len(u) > len(data) {
			t.Fatalf("inconsistent lengths: field %d view %d input %d", u.Length(), len(u), len(data))
		}
		if v6 && u.Checksum() == 0 {
			t.Fatal("zero checksum accepted over IPv6")
		}
		// Re-encoding what was parsed must parse to the same datagram.
		b := make([]byte, len(u))
		if EncodeUDP(b, src, dst, u.SrcPort(), u.DstPort(), u.Payload()) != len(u) {
			t.Fatal("re-encode failed")
		}
		u2, err := ParseUDP(src, dst, b)
		if err != nil || u2.SrcPort() != u.SrcPort() || u2.DstPort() != u.DstPort() || !bytes.Equal(u2.Payload(), u.Payload()) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
