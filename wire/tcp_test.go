package wire

import (
	"bytes"
	"testing"
)

func TestParseTCPErrors(t *testing.T) {
	hdr := func(n int, off byte) []byte {
		b := make([]byte, n)
		if n > 12 {
			b[12] = off << 4
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"nil", nil, ErrTCPShort},
		{"19 bytes", hdr(19, 5), ErrTCPShort},
		{"offset 0", hdr(20, 0), ErrTCPDataOffset},
		{"offset 4", hdr(40, 4), ErrTCPDataOffset},
		{"offset 6 in 20 bytes", hdr(20, 6), ErrTCPDataOffset},
		{"offset 15 in 59 bytes", hdr(59, 15), ErrTCPDataOffset},
		{"offset 5", hdr(20, 5), nil},
		{"offset 15 in 60 bytes", hdr(60, 15), nil},
		{"offset 6 with payload", hdr(100, 6), nil},
	}
	for _, tt := range tests {
		seg, err := ParseTCP(tt.in)
		if err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
		if err != nil && seg != nil {
			t.Errorf("%s: non-nil view with error", tt.name)
		}
	}
}

func TestTCPAccessors(t *testing.T) {
	// A hand-laid header: every field has a distinct value.
	b := []byte{
		0x12, 0x34, // source port
		0xab, 0xcd, // destination port
		0x01, 0x02, 0x03, 0x04, // sequence
		0xf1, 0xf2, 0xf3, 0xf4, // acknowledgment
		0x60, 0x18, // data offset 6, PSH|ACK
		0x72, 0x10, // window
		0xbe, 0xef, // checksum
		0x00, 0x07, // urgent
		2, 4, 0x05, 0xb4, // MSS 1460
		'h', 'i', '!',
	}
	seg, err := ParseTCP(b)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"SrcPort", seg.SrcPort(), uint16(0x1234)},
		{"DstPort", seg.DstPort(), uint16(0xabcd)},
		{"Seq", seg.Seq(), uint32(0x01020304)},
		{"Ack", seg.Ack(), uint32(0xf1f2f3f4)},
		{"HeaderLen", seg.HeaderLen(), 24},
		{"Flags", seg.Flags(), FlagPSH | FlagACK},
		{"Window", seg.Window(), uint16(0x7210)},
		{"Checksum", seg.Checksum(), uint16(0xbeef)},
		{"Urgent", seg.Urgent(), uint16(7)},
		{"OptionBytes", string(seg.OptionBytes()), string([]byte{2, 4, 0x05, 0xb4})},
		{"Payload", string(seg.Payload()), "hi!"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var o Options
	if err := seg.Options(&o); err != nil || o != (Options{HasMSS: true, MSS: 1460}) {
		t.Errorf("Options = %+v, %v", o, err)
	}
	seg.SetChecksum(0x1357)
	if seg.Checksum() != 0x1357 || b[16] != 0x13 || b[17] != 0x57 {
		t.Errorf("SetChecksum did not write through the view")
	}
}

func TestEncodeTCP(t *testing.T) {
	payloads := [][]byte{nil, {0}, []byte("hello"), bytes.Repeat([]byte{0x5a}, 1460)}
	fields := []TCPFields{
		{},
		{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: FlagSYN, Window: 5, Urgent: 6},
		{SrcPort: 0xffff, DstPort: 0xfffe, Seq: 0xffffffff, Ack: 0x80000000,
			Flags: 0xff, Window: 0xffff, Urgent: 0xffff},
		{SrcPort: 443, DstPort: 51234, Seq: 1e9, Ack: 2e9, Flags: FlagPSH | FlagACK, Window: 502},
	}
	opts := append([]*Options{nil}, func() []*Options {
		var out []*Options
		for _, o := range optionCombos() {
			out = append(out, &o)
		}
		return out
	}()...)
	for _, f := range fields {
		for _, o := range opts {
			for _, p := range payloads {
				n := TCPSegmentLen(o, len(p))
				b := bytes.Repeat([]byte{0xee}, n+3)
				if got := EncodeTCP(b, &f, o, p); got != n {
					t.Fatalf("EncodeTCP = %d, want %d", got, n)
				}
				if !bytes.Equal(b[n:], []byte{0xee, 0xee, 0xee}) {
					t.Fatal("EncodeTCP wrote past the segment")
				}
				seg, err := ParseTCP(b[:n])
				if err != nil {
					t.Fatal(err)
				}
				got := TCPFields{seg.SrcPort(), seg.DstPort(), seg.Seq(), seg.Ack(), seg.Flags(), seg.Window(), seg.Urgent()}
				if got != f {
					t.Fatalf("fields %+v, want %+v", got, f)
				}
				if seg.Checksum() != 0 {
					t.Fatal("checksum not zero")
				}
				if !bytes.Equal(seg.Payload(), p) {
					t.Fatal("payload differs")
				}
				var po Options
				if err := seg.Options(&po); err != nil {
					t.Fatal(err)
				}
				want := Options{}
				if o != nil {
					want = wantEncoded(*o)
				}
				if po != want {
					t.Fatalf("options %+v, want %+v", po, want)
				}
				if n > 0 && EncodeTCP(b[:n-1], &f, o, p) != 0 {
					t.Fatal("EncodeTCP into a short buffer did not return 0")
				}
			}
		}
	}
}

func TestEncodeTCPPayloadInPlace(t *testing.T) {
	// A caller may build the payload where it belongs and pass it in.
	o := &Options{HasTimestamps: true, TSVal: 1, TSEcr: 2}
	b := make([]byte, TCPSegmentLen(o, 5))
	hl := TCPHeaderLen + o.Len()
	copy(b[hl:], "abcde")
	n := EncodeTCP(b, &TCPFields{Flags: FlagACK}, o, b[hl:])
	if n != len(b) || string(TCP(b).Payload()) != "abcde" {
		t.Fatalf("n=%d payload %q", n, TCP(b).Payload())
	}
}

func TestTCPSegmentLen(t *testing.T) {
	if got := TCPSegmentLen(nil, 0); got != 20 {
		t.Errorf("nil options = %d", got)
	}
	o := &Options{HasMSS: true, HasWScale: true}
	if got := TCPSegmentLen(o, 100); got != 20+8+100 {
		t.Errorf("MSS+WS+100 = %d", got)
	}
}
