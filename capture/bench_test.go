package capture

import (
	"io"
	"testing"
)

// BenchmarkReadDecode reads and decodes a capture of 1000 full-size data
// segments: per packet, with no allocation (views into the capture).
func BenchmarkReadDecode(b *testing.B) {
	seg := dataPacket(b, cli4, srv4, string(make([]byte, 1448)))
	pkts := make([][]byte, 1000)
	for i := range pkts {
		pkts[i] = seg
	}
	capt := pcapOf(b, 0, pkts...)
	b.SetBytes(int64(len(capt)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := NewReader(capt)
		if err != nil {
			b.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Decode(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
