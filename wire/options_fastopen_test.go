package wire

import (
	"bytes"
	"testing"
)

// RFC 7413 §4.1.1: kind 34, length 2 + cookie; a cookie of 0 bytes is a
// request; anything but 0 or an even 4..16 MUST be ignored.
func TestParseFastOpen(t *testing.T) {
	cookie := []byte{0xab, 0xcd, 0x12, 0x34}
	tests := []struct {
		name   string
		in     []byte
		has    bool
		exp    bool
		cookie []byte
		bad    bool
	}{
		{name: "request", in: []byte{34, 2, 1, 1}, has: true},
		{name: "4-byte cookie", in: []byte{34, 6, 0xab, 0xcd, 0x12, 0x34, 1, 1}, has: true, cookie: cookie},
		{name: "16-byte cookie", in: append([]byte{34, 18}, bytes.Repeat([]byte{7}, 16)...), has: true, cookie: bytes.Repeat([]byte{7}, 16)},
		{name: "experimental request", in: []byte{254, 4, 0xf9, 0x89}, has: true, exp: true},
		{name: "experimental cookie", in: []byte{254, 8, 0xf9, 0x89, 0xab, 0xcd, 0x12, 0x34}, has: true, exp: true, cookie: cookie},
		{name: "odd length ignored", in: []byte{34, 7, 1, 2, 3, 4, 5, 1}, bad: true},
		{name: "2-byte cookie ignored", in: []byte{34, 4, 1, 2}, bad: true},
		{name: "18-byte cookie ignored", in: append([]byte{34, 20}, make([]byte, 18)...), bad: true},
		{name: "other experiment skipped", in: []byte{254, 6, 0x12, 0x34, 1, 2}},
		{name: "experiment without magic skipped", in: []byte{254, 2, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			if err := ParseOptions(tt.in, &o); err != nil {
				t.Fatalf("ParseOptions: %v", err)
			}
			if o.HasFastOpen != tt.has || o.FastOpenExp != tt.exp || o.FastOpenBad != tt.bad {
				t.Fatalf("has=%v exp=%v bad=%v, want %v %v %v", o.HasFastOpen, o.FastOpenExp, o.FastOpenBad, tt.has, tt.exp, tt.bad)
			}
			if !bytes.Equal(o.FastOpenCookieBytes(), tt.cookie) {
				t.Fatalf("cookie %x, want %x", o.FastOpenCookieBytes(), tt.cookie)
			}
		})
	}
}

// The SYN layout Linux sends with a cookie, as packetdrill scripts expect
// it: mss, nop, nop, sackOK, nop, wscale, FO cookie, nop, nop.
func TestEncodeFastOpenLinuxLayout(t *testing.T) {
	o := Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 8}
	if !o.SetFastOpen([]byte{0xab, 0xcd, 0x12, 0x34}, false) {
		t.Fatal("SetFastOpen refused a 4-byte cookie")
	}
	want := []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8, 34, 6, 0xab, 0xcd, 0x12, 0x34, 1, 1}
	var b [MaxOptionsLen]byte
	n := o.Encode(b[:])
	if n != o.Len() || !bytes.Equal(b[:n], want) {
		t.Fatalf("encoded % x (len %d), want % x", b[:n], o.Len(), want)
	}
}

func TestEncodeFastOpenRoundTrip(t *testing.T) {
	for _, exp := range []bool{false, true} {
		for _, n := range []int{0, 4, 6, 8, 16} {
			o := Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 1, TSEcr: 2, HasWScale: true, WScale: 7}
			cookie := bytes.Repeat([]byte{byte(n)}, n)
			if !o.SetFastOpen(cookie, exp) {
				t.Fatalf("SetFastOpen(%d bytes) refused", n)
			}
			var b [MaxOptionsLen]byte
			k := o.Encode(b[:])
			if k == 0 || k%4 != 0 || k > MaxOptionsLen {
				t.Fatalf("exp=%v n=%d: encoded length %d", exp, n, k)
			}
			var got Options
			if err := ParseOptions(b[:k], &got); err != nil {
				t.Fatalf("exp=%v n=%d: %v", exp, n, err)
			}
			if got != o {
				t.Fatalf("exp=%v n=%d: round trip\n got %+v\nwant %+v", exp, n, got, o)
			}
		}
	}
}

func TestSetFastOpenRejectsBadLength(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 17, 18} {
		var o Options
		if o.SetFastOpen(make([]byte, n), false) || o.HasFastOpen {
			t.Errorf("SetFastOpen accepted a %d-byte cookie", n)
		}
	}
}
