package wire

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestICMPRoundTrip(t *testing.T) {
	body := []byte("echo data")
	b := make([]byte, 64)
	n := EncodeICMP(b, ICMPv4EchoRequest, 0, 0x00010002, body, 0)
	m, err := ParseICMPv4(b[:n])
	if err != nil {
		t.Fatal(err)
	}
	if m.Type() != ICMPv4EchoRequest || m.Code() != 0 || m.RestOfHeader() != 0x00010002 || !bytes.Equal(m.Body(), body) {
		t.Fatalf("decoded %d/%d %#x %q", m.Type(), m.Code(), m.RestOfHeader(), m.Body())
	}
	b[9] ^= 1
	if _, err := ParseICMPv4(b[:n]); err != ErrICMPChecksum {
		t.Fatalf("corrupted message: %v", err)
	}
	src, dst := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	n = EncodeICMP(b, ICMPv6PacketTooBig, 0, 1280, body, PseudoHeaderSum(src, dst, ProtoICMPv6, ICMPHeaderLen+len(body)))
	m, err = ParseICMPv6(src, dst, b[:n])
	if err != nil || m.Type() != ICMPv6PacketTooBig || m.RestOfHeader() != 1280 {
		t.Fatalf("ICMPv6: %v type %d mtu %d", err, m.Type(), m.RestOfHeader())
	}
	// The ICMPv6 checksum covers the pseudo-header: other addresses fail.
	if _, err := ParseICMPv6(dst, src.Next(), b[:n]); err != ErrICMPChecksum {
		t.Fatalf("wrong pseudo-header accepted: %v", err)
	}
	if _, err := ParseICMPv4(b[:7]); err != ErrICMPShort {
		t.Fatalf("short message: %v", err)
	}
	if EncodeICMP(b[:10], 0, 0, 0, body, 0) != 0 {
		t.Fatal("encoded into a buffer too small")
	}
}

func FuzzParseICMP(f *testing.F) {
	b := make([]byte, 32)
	n := EncodeICMP(b, ICMPv4EchoRequest, 0, 7, []byte("seed"), 0)
	f.Add(b[:n])
	f.Add([]byte{3, 4, 0, 0, 0, 0, 5, 220})
	src, dst := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseICMPv4(data); err == nil {
			_ = m.Type() + m.Code()
			_ = m.RestOfHeader()
			_ = m.Body()
			// A message that parses re-encodes to the same bytes.
			out := make([]byte, len(data))
			EncodeICMP(out, m.Type(), m.Code(), m.RestOfHeader(), m.Body(), 0)
			if Fold(Sum(out, 0)) != 0 {
				t.Fatalf("re-encoded message has a bad checksum")
			}
		}
		if m, err := ParseICMPv6(src, dst, data); err == nil {
			_ = m.Body()
		}
	})
}
