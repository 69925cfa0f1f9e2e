package tcp

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// BenchmarkHandshake is one full three-way handshake between an active
// open and a listener's child, in memory, every option on: SYN, SYN-ACK,
// ACK, then Accept. The two TCBs are the unavoidable allocations.
func BenchmarkHandshake(b *testing.B) {
	env := NewEnv(DefaultConfig(), testSecret)
	l := NewListener(env)
	var cout, sout Output
	ct := testTuple.Reverse()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := time.Duration(i) * time.Microsecond
		c := NewActive(env, ct, now)
		c.Poll(now, &cout) // SYN
		s := l.Input(now, testTuple, &cout.Segs[0].Seg, &sout)
		cout.Reset()
		c.Input(now, &sout.Segs[0].Seg, &cout) // SYN-ACK
		sout.Reset()
		c.Poll(now, &cout) // ACK
		s.Input(now, &cout.Segs[0].Seg, &sout)
		cout.Reset()
		if c.State() != Established || s.State() != Established || l.Accept() != s {
			b.Fatalf("handshake failed: %v %v", c.State(), s.State())
		}
	}
}

// BenchmarkEstablishedInput is the receive fast path: one in-order
// MSS-sized data segment with timestamps, the Read that drains it and the
// Poll that acknowledges it.
func BenchmarkEstablishedInput(b *testing.B) {
	env := NewEnv(DefaultConfig(), testSecret)
	l := NewListener(env)
	syn := Segment{Seq: remoteISS, Flags: flagSYN, Window: 65535, Options: wire.Options{
		HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamps: true, TSVal: 1}}
	var out Output
	c := l.Input(0, testTuple, &syn, &out)
	out.Reset()
	ack := Segment{Seq: remoteISS + 1, Ack: c.ISS() + 1, Flags: flagACK, Window: 1000,
		Options: wire.Options{HasTimestamps: true, TSVal: 2, TSEcr: c.tsVal(0)}}
	c.Input(0, &ack, &out)
	if c.State() != Established || l.Accept() != c {
		b.Fatal("no connection")
	}
	payload := make([]byte, 1448)
	buf := make([]byte, 4096)
	seg := Segment{Ack: c.ISS() + 1, Flags: flagACK | flagPSH, Window: 1000, Payload: payload,
		Options: wire.Options{HasTimestamps: true, TSEcr: c.tsVal(0)}}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := time.Duration(i) * time.Microsecond
		seg.Seq = c.rcvNxt
		seg.Options.TSVal = uint32(3 + i)
		c.Input(now, &seg, &out)
		if n, _ := c.Read(buf); n != len(payload) {
			b.Fatalf("read %d", n)
		}
		c.Poll(now, &out)
		if len(out.Segs) != 1 {
			b.Fatalf("%d segments", len(out.Segs))
		}
		out.Reset()
	}
}
