package wire

import "testing"

// benchSeg is a typical data segment: timestamps, one SACK block, 1448
// bytes of payload.
func benchSeg() ([]byte, *Options) {
	o := &Options{HasTimestamps: true, TSVal: 123456, TSEcr: 654321,
		NumSACK: 1, SACK: [4]SACKBlock{{1000, 2000}}}
	return mustTCP(TCPFields{SrcPort: 443, DstPort: 50000, Seq: 1, Ack: 2, Flags: FlagACK, Window: 512},
		o, make([]byte, 1448)), o
}

func BenchmarkParseTCP(b *testing.B) {
	seg, _ := benchSeg()
	b.ReportAllocs()
	var o Options
	for b.Loop() {
		s, err := ParseTCP(seg)
		if err != nil || s.Options(&o) != nil {
			b.Fatal("parse")
		}
	}
}

func BenchmarkParseOptions(b *testing.B) {
	o := Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true,
		TSVal: 1, TSEcr: 2, HasWScale: true, WScale: 7}
	var buf [MaxOptionsLen]byte
	opts := buf[:o.Encode(buf[:])]
	b.ReportAllocs()
	var p Options
	for b.Loop() {
		if ParseOptions(opts, &p) != nil {
			b.Fatal("parse")
		}
	}
}

func BenchmarkChecksum1500(b *testing.B) {
	buf := make([]byte, 1500)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sink += uint64(Sum(buf, 0))
	}
}

func BenchmarkEncodeTCP(b *testing.B) {
	_, o := benchSeg()
	payload := make([]byte, 1448)
	out := make([]byte, 1600)
	f := TCPFields{SrcPort: 443, DstPort: 50000, Seq: 1, Ack: 2, Flags: FlagACK, Window: 512}
	b.ReportAllocs()
	for b.Loop() {
		if EncodeTCP(out, &f, o, payload) == 0 {
			b.Fatal("encode")
		}
	}
}

// BenchmarkEncodeTCPChecksum adds the checksum, as a sender must.
func BenchmarkEncodeTCPChecksum(b *testing.B) {
	_, o := benchSeg()
	payload := make([]byte, 1448)
	out := make([]byte, 1600)
	f := TCPFields{SrcPort: 443, DstPort: 50000, Seq: 1, Ack: 2, Flags: FlagACK, Window: 512}
	b.ReportAllocs()
	for b.Loop() {
		n := EncodeTCP(out, &f, o, payload)
		TCP(out[:n]).SetChecksum(TCPChecksum(v4a, v4b, out[:n]))
	}
}
