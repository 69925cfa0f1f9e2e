package wire

import (
	"bytes"
	"testing"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Options
		err  error
	}{
		{name: "empty", in: nil},
		{name: "EOL only", in: []byte{0, 0, 0, 0}},
		{name: "NOPs only", in: []byte{1, 1, 1, 1}},
		{name: "MSS", in: []byte{2, 4, 0x05, 0xb4},
			want: Options{HasMSS: true, MSS: 1460}},
		{name: "MSS max", in: []byte{2, 4, 0xff, 0xff},
			want: Options{HasMSS: true, MSS: 0xffff}},
		{name: "window scale", in: []byte{1, 3, 3, 7},
			want: Options{HasWScale: true, WScale: 7}},
		{name: "window scale above 14 kept raw", in: []byte{3, 3, 200, 0},
			want: Options{HasWScale: true, WScale: 200}},
		{name: "SACK permitted", in: []byte{1, 1, 4, 2},
			want: Options{SACKPermitted: true}},
		{name: "timestamps", in: []byte{1, 1, 8, 10, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0},
			want: Options{HasTimestamps: true, TSVal: 0x01020304, TSEcr: 0xa0b0c0d0}},
		{name: "SACK 1 block", in: []byte{1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2},
			want: Options{NumSACK: 1, SACK: [4]SACKBlock{{1, 2}}}},
		{name: "SACK 4 blocks",
			in: []byte{5, 34,
				0, 0, 0, 1, 0, 0, 0, 2,
				0, 0, 0, 3, 0, 0, 0, 4,
				0, 0, 0, 5, 0, 0, 0, 6,
				0xff, 0xff, 0xff, 0xff, 0, 0, 0, 8},
			want: Options{NumSACK: 4, SACK: [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}, {0xffffffff, 8}}}},
		{name: "Linux SYN",
			in: []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7},
			want: Options{HasMSS: true, MSS: 1460, SACKPermitted: true,
				HasTimestamps: true, TSVal: 9, HasWScale: true, WScale: 7}},
		{name: "unknown kind skipped", in: []byte{30, 4, 0xaa, 0xbb, 2, 4, 0, 100},
			want: Options{HasMSS: true, MSS: 100}},
		{name: "unknown kind of length 2", in: []byte{253, 2, 4, 2},
			want: Options{SACKPermitted: true}},
		{name: "EOL stops parsing", in: []byte{2, 4, 0, 100, 0, 3, 3, 7},
			want: Options{HasMSS: true, MSS: 100}},
		{name: "garbage after EOL ignored", in: []byte{0, 0xff, 0, 1},
			want: Options{}},
		{name: "later copy wins", in: []byte{2, 4, 0, 1, 2, 4, 0, 2},
			want: Options{HasMSS: true, MSS: 2}},
		{name: "later SACK clears stale blocks",
			in: []byte{5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
				5, 10, 0, 0, 0, 7, 0, 0, 0, 8},
			want: Options{NumSACK: 1, SACK: [4]SACKBlock{{7, 8}}}},
		{name: "option filling area exactly", in: []byte{1, 3, 3, 14},
			want: Options{HasWScale: true, WScale: 14}},

		{name: "length 0", in: []byte{2, 0, 0, 0}, err: ErrOptionLength},
		{name: "length 1", in: []byte{2, 1, 0, 0}, err: ErrOptionLength},
		{name: "unknown length 0", in: []byte{99, 0}, err: ErrOptionLength},
		{name: "unknown length 1", in: []byte{99, 1, 1, 1}, err: ErrOptionLength},
		{name: "kind without length byte", in: []byte{1, 1, 1, 2}, err: ErrOptionLength},
		{name: "length past area", in: []byte{2, 4, 0}, err: ErrOptionLength},
		{name: "unknown past area", in: []byte{1, 99, 10, 0, 0, 0}, err: ErrOptionLength},
		{name: "TS past area", in: []byte{8, 10, 0, 0, 0, 0, 0, 0, 0}, err: ErrOptionLength},
		{name: "MSS length 3", in: []byte{2, 3, 0, 0}, err: ErrOptionMalformed},
		{name: "MSS length 5", in: []byte{2, 5, 0, 0, 0, 0, 0, 0}, err: ErrOptionMalformed},
		{name: "WS length 2", in: []byte{3, 2, 1, 1}, err: ErrOptionMalformed},
		{name: "WS length 4", in: []byte{3, 4, 1, 1}, err: ErrOptionMalformed},
		{name: "SACKOK length 3", in: []byte{4, 3, 0, 1}, err: ErrOptionMalformed},
		{name: "SACKOK length 4", in: []byte{4, 4, 0, 0}, err: ErrOptionMalformed},
		{name: "TS length 8", in: []byte{8, 8, 0, 0, 0, 0, 0, 0}, err: ErrOptionMalformed},
		{name: "TS length 12", in: []byte{8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, err: ErrOptionMalformed},
		{name: "SACK no blocks", in: []byte{5, 2, 1, 1}, err: ErrOptionMalformed},
		{name: "SACK partial block", in: []byte{5, 6, 0, 0, 0, 0}, err: ErrOptionMalformed},
		{name: "SACK 1.5 blocks", in: append([]byte{5, 14}, make([]byte, 12)...), err: ErrOptionMalformed},
		{name: "SACK 5 blocks", in: append([]byte{5, 42}, make([]byte, 40)...), err: ErrOptionMalformed},
		{name: "error after good option", in: []byte{2, 4, 0, 1, 3, 9, 0, 0}, err: ErrOptionLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Start dirty to prove ParseOptions resets o.
			got := Options{HasMSS: true, MSS: 9, NumSACK: 3, SACK: [4]SACKBlock{{1, 1}, {2, 2}, {3, 3}, {4, 4}}}
			err := ParseOptions(tt.in, &got)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEncodeLayout(t *testing.T) {
	ts := []byte{8, 10, 0, 0, 0, 5, 0, 0, 0, 6}
	sack := func(n int) []byte {
		b := []byte{1, 1, 5, byte(2 + 8*n)}
		for i := 0; i < n; i++ {
			b = append(b, 0, 0, 0, byte(10*i+1), 0, 0, 0, byte(10*i+2))
		}
		return b
	}
	blocks := [4]SACKBlock{{1, 2}, {11, 12}, {21, 22}, {31, 32}}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		o    Options
		want []byte
	}{
		{"none", Options{}, []byte{}},
		{"MSS", Options{HasMSS: true, MSS: 1460}, []byte{2, 4, 0x05, 0xb4}},
		{"SACKOK+TS", Options{SACKPermitted: true, HasTimestamps: true, TSVal: 5, TSEcr: 6},
			cat([]byte{4, 2}, ts)},
		{"TS", Options{HasTimestamps: true, TSVal: 5, TSEcr: 6}, cat([]byte{1, 1}, ts)},
		{"SACKOK", Options{SACKPermitted: true}, []byte{1, 1, 4, 2}},
		{"WS", Options{HasWScale: true, WScale: 7}, []byte{1, 3, 3, 7}},
		{"SACK 1", Options{NumSACK: 1, SACK: blocks}, sack(1)},
		{"SACK 4", Options{NumSACK: 4, SACK: blocks}, sack(4)},
		{"Linux SYN", Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true,
			TSVal: 5, TSEcr: 6, HasWScale: true, WScale: 7},
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2}, ts, []byte{1, 3, 3, 7})},
		{"TS+SACK 3", Options{HasTimestamps: true, TSVal: 5, TSEcr: 6, NumSACK: 3, SACK: blocks},
			cat([]byte{1, 1}, ts, sack(3))},
		{"TS+SACK 4 drops one", Options{HasTimestamps: true, TSVal: 5, TSEcr: 6, NumSACK: 4, SACK: blocks},
			cat([]byte{1, 1}, ts, sack(3))},
		{"all, SACK 4 drops two", Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true,
			TSVal: 5, TSEcr: 6, HasWScale: true, WScale: 7, NumSACK: 4, SACK: blocks},
			cat([]byte{2, 4, 0x05, 0xb4, 4, 2}, ts, []byte{1, 3, 3, 7}, sack(2))},
		{"NumSACK above 4 clamped", Options{NumSACK: 9, SACK: blocks}, sack(4)},
		{"NumSACK negative", Options{NumSACK: -1, SACK: blocks}, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Len(); got != len(tt.want) {
				t.Fatalf("Len = %d, want %d", got, len(tt.want))
			}
			if len(tt.want)%4 != 0 || len(tt.want) > MaxOptionsLen {
				t.Fatalf("bad test: length %d", len(tt.want))
			}
			buf := bytes.Repeat([]byte{0xee}, MaxOptionsLen+8)
			n := tt.o.Encode(buf)
			if n != len(tt.want) || !bytes.Equal(buf[:n], tt.want) {
				t.Fatalf("Encode = % x, want % x", buf[:n], tt.want)
			}
			for i := n; i < len(buf); i++ {
				if buf[i] != 0xee {
					t.Fatalf("Encode wrote past its length at %d", i)
				}
			}
			if n > 0 && tt.o.Encode(buf[:n-1]) != 0 {
				t.Fatal("Encode into a short buffer did not return 0")
			}
		})
	}
}

// optionCombos enumerates every combination of the known options with 0 to
// 4 SACK blocks.
func optionCombos() []Options {
	var out []Options
	for mask := 0; mask < 16; mask++ {
		for k := 0; k <= 4; k++ {
			o := Options{
				HasMSS: mask&1 != 0, HasWScale: mask&2 != 0,
				SACKPermitted: mask&4 != 0, HasTimestamps: mask&8 != 0,
				NumSACK: k,
			}
			if o.HasMSS {
				o.MSS = uint16(536 + mask*k)
			}
			if o.HasWScale {
				o.WScale = uint8(mask + k)
			}
			if o.HasTimestamps {
				o.TSVal, o.TSEcr = 0xdeadbeef+uint32(k), 0x01020304*uint32(mask)
			}
			for i := 0; i < k; i++ {
				o.SACK[i] = SACKBlock{uint32(1000*i + mask), uint32(1000*i + 500 + k)}
			}
			out = append(out, o)
		}
	}
	return out
}

func TestOptionsRoundTrip(t *testing.T) {
	for _, o := range optionCombos() {
		var buf [MaxOptionsLen]byte
		n := o.Encode(buf[:])
		if n != o.Len() || n%4 != 0 || n > MaxOptionsLen {
			t.Fatalf("%+v: Encode = %d, Len = %d", o, n, o.Len())
		}
		var got Options
		if err := ParseOptions(buf[:n], &got); err != nil {
			t.Fatalf("%+v: parse: %v", o, err)
		}
		if want := wantEncoded(o); got != want {
			t.Fatalf("round trip\ngot  %+v\nwant %+v", got, want)
		}
		// A round trip that dropped no blocks must be exact.
		if got.NumSACK == o.NumSACK && got != o {
			t.Fatalf("lossless round trip differs: %+v vs %+v", got, o)
		}
	}
}

func TestOptionsPadding(t *testing.T) {
	// A sender may end the list with EOL and pad with zeros (RFC 9293 §3.1).
	in := []byte{2, 4, 0x05, 0xb4, 3, 3, 6, 0}
	var o Options
	if err := ParseOptions(in, &o); err != nil {
		t.Fatal(err)
	}
	want := Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 6}
	if o != want {
		t.Fatalf("got %+v", o)
	}
	// Every encoded length is 4-aligned, so a header built from it needs
	// no padding and its data offset is exact.
	for _, o := range optionCombos() {
		seg := mustTCP(TCPFields{}, &o, nil)
		p, err := ParseTCP(seg)
		if err != nil || p.HeaderLen() != TCPHeaderLen+o.Len() {
			t.Fatalf("%+v: header len %d, err %v", o, p.HeaderLen(), err)
		}
	}
}
