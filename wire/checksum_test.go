package wire

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestSumRFC1071Example(t *testing.T) {
	// RFC 1071 §3: these bytes sum to 2ddf0, folded ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Sum(b, 0); got != 0xddf2 {
		t.Fatalf("Sum = %#x, want 0xddf2", got)
	}
	if got := Fold(Sum(b, 0)); got != 0x220d {
		t.Fatalf("Fold = %#x, want 0x220d", got)
	}
	if got := Fold(0x2ddf0); got != 0x220d {
		t.Fatalf("Fold(unfolded) = %#x, want 0x220d", got)
	}
}

func TestSumSmall(t *testing.T) {
	tests := []struct {
		in      []byte
		initial uint32
		want    uint32
	}{
		{nil, 0, 0},
		{[]byte{0x01}, 0, 0x0100},                      // odd byte padded with zero
		{[]byte{0xab, 0xcd, 0xef}, 0, 0x9ace},          // abcd + ef00 = 19acd
		{[]byte{0xff, 0xff}, 0, 0xffff},                // negative zero stays
		{[]byte{0xff, 0xff, 0x00, 0x01}, 0, 0x0001},    // end-around carry
		{nil, 0xffffffff, 0xffff},                      // large initial folds
		{[]byte{0x00, 0x01}, 0x0001ffff, 0x0002},       // 1ffff+1 = 20000 -> 2
		{bytes.Repeat([]byte{0xff}, 9), 0, 0xff00},     // 4 words ffff + ff00
		{bytes.Repeat([]byte{0xff}, 65536), 0, 0xffff}, // no overflow on long input
		{bytes.Repeat([]byte{0x80}, 16), 7, 0x040b},    // 8*8080 + 7 = 40407 -> 040b
	}
	for i, tt := range tests {
		if got := Sum(tt.in, tt.initial); got != tt.want {
			t.Errorf("case %d: Sum = %#x, want %#x", i, got, tt.want)
		}
		if got := refSum(tt.in, tt.initial); got != tt.want {
			t.Errorf("case %d: refSum = %#x, want %#x", i, got, tt.want)
		}
	}
}

func TestSumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= 300; n++ {
		for _, off := range []int{0, 1, 3, 7} { // unaligned starts too
			b := buf[off : off+n]
			init := r.Uint32()
			if got, want := Sum(b, init), refSum(b, init); got != want {
				t.Fatalf("len %d off %d: Sum = %#x, ref %#x", n, off, got, want)
			}
		}
	}
	if got, want := Sum(buf, 0), refSum(buf, 0); got != want {
		t.Fatalf("4096: Sum = %#x, ref %#x", got, want)
	}
}

func TestSumChaining(t *testing.T) {
	b := make([]byte, 1501)
	for i := range b {
		b[i] = byte(i * 7)
	}
	whole := Sum(b, 0)
	for split := 0; split <= len(b); split += 2 {
		if got := Sum(b[split:], Sum(b[:split], 0)); got != whole {
			t.Fatalf("split %d: %#x != %#x", split, got, whole)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		in   uint32
		want uint16
	}{
		{0, 0xffff},
		{0xffff, 0},
		{0x10000, 0xfffe},
		{0xffffffff, 0},
		{0x1234, ^uint16(0x1234)},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%#x) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}

func TestIPv4HeaderChecksumVector(t *testing.T) {
	// A widely used worked example: the checksum of this header is b861.
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := Fold(Sum(h, 0)); got != 0xb861 {
		t.Fatalf("checksum = %#x, want 0xb861", got)
	}
	h[10], h[11] = 0xb8, 0x61
	if got := Fold(Sum(h, 0)); got != 0 {
		t.Fatalf("verify = %#x, want 0", got)
	}
}

// synSeg is a bare SYN from port 1 to port 2 with every other field zero.
func synSeg() []byte {
	return mustTCP(TCPFields{SrcPort: 1, DstPort: 2, Flags: FlagSYN}, nil, nil)
}

func TestTCPChecksumVectors(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		want     uint16
	}{
		// Pseudo-header 0a00+0001+0a00+0002+0006+0014 = 141d; header
		// 0001+0002+5002 = 5005; sum 6422, complement 9bdd.
		{"ipv4", netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 0x9bdd},
		// Pseudo-header 0001+0002+0014+0006 = 001d; sum 5022, complement afdd.
		{"ipv6", netip.MustParseAddr("::1"), netip.MustParseAddr("::2"), 0xafdd},
	}
	for _, tt := range tests {
		seg := synSeg()
		if got := TCPChecksum(tt.src, tt.dst, seg); got != tt.want {
			t.Errorf("%s: TCPChecksum = %#x, want %#x", tt.name, got, tt.want)
		}
		TCP(seg).SetChecksum(0x1111) // ignored by TCPChecksum
		if got := TCPChecksum(tt.src, tt.dst, seg); got != tt.want {
			t.Errorf("%s: TCPChecksum with junk field = %#x", tt.name, got)
		}
		if VerifyTCPChecksum(tt.src, tt.dst, seg) {
			t.Errorf("%s: junk checksum verified", tt.name)
		}
		TCP(seg).SetChecksum(tt.want)
		if !VerifyTCPChecksum(tt.src, tt.dst, seg) {
			t.Errorf("%s: good checksum did not verify", tt.name)
		}
	}
}

// pseudoBytes lays out a pseudo-header as bytes for refSum.
func pseudoBytes(src, dst netip.Addr, proto uint8, length int) []byte {
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		b := append(s[:], d[:]...)
		return append(b, 0, proto, byte(length>>8), byte(length))
	}
	s, d := src.As16(), dst.As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(length))
	return append(b, 0, 0, 0, proto)
}

func TestPseudoHeaderSum(t *testing.T) {
	addrs := [][2]netip.Addr{
		{v4a, v4b},
		{netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("255.255.255.254")},
		{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("0.0.0.0")},
		{v6a, v6b},
		{netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), netip.MustParseAddr("fe80::1")},
	}
	for _, a := range addrs {
		for _, proto := range []uint8{ProtoTCP, ProtoICMP, ProtoICMPv6} {
			for _, n := range []int{0, 20, 1480, 65535, 70000} {
				if a[0].Is4() && n > 0xffff {
					continue
				}
				want := refSum(pseudoBytes(a[0], a[1], proto, n), 0)
				if got := PseudoHeaderSum(a[0], a[1], proto, n); got != want {
					t.Errorf("%v->%v proto %d len %d: %#x, want %#x", a[0], a[1], proto, n, got, want)
				}
			}
		}
	}
}

func TestVerifyTCPChecksum(t *testing.T) {
	pairs := [][2]netip.Addr{{v4a, v4b}, {v6a, v6b}}
	for _, p := range pairs {
		for _, payload := range [][]byte{nil, []byte("x"), []byte("odd length payload!"), make([]byte, 1400)} {
			o := &Options{HasTimestamps: true, TSVal: 77, TSEcr: 88}
			seg := mustTCP(TCPFields{SrcPort: 80, DstPort: 4000, Seq: 5, Ack: 6, Flags: FlagACK | FlagPSH, Window: 100}, o, payload)
			TCP(seg).SetChecksum(TCPChecksum(p[0], p[1], seg))
			if !VerifyTCPChecksum(p[0], p[1], seg) {
				t.Fatalf("%v: fresh checksum does not verify", p)
			}
			// Reference: pseudo-header plus segment through refSum.
			ref := refSum(seg, refSum(pseudoBytes(p[0], p[1], ProtoTCP, len(seg)), 0))
			if Fold(ref) != 0 {
				t.Fatalf("%v: reference disagrees", p)
			}
			other := netip.MustParseAddr("203.0.113.9")
			if p[0].Is6() {
				other = netip.MustParseAddr("2001:db8::99")
			}
			if VerifyTCPChecksum(other, p[1], seg) {
				t.Fatalf("%v: verified with the wrong source", p)
			}
			seg[len(seg)-1] ^= 0x40
			if VerifyTCPChecksum(p[0], p[1], seg) {
				t.Fatalf("%v: verified a corrupted segment", p)
			}
		}
	}
}

func TestTCPChecksumShortInput(t *testing.T) {
	// Not a valid segment, but the checksum helpers must not panic.
	for n := 0; n < 20; n++ {
		b := make([]byte, n)
		TCPChecksum(v4a, v4b, b)
		VerifyTCPChecksum(v6a, v6b, b)
	}
	// Mismatched or zero addresses must not panic either.
	PseudoHeaderSum(v4a, v6a, ProtoTCP, 20)
	PseudoHeaderSum(netip.Addr{}, netip.Addr{}, ProtoTCP, 20)
}
