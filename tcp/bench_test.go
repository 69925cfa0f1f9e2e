package tcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// handshakeRig runs whole handshakes between active opens and a
// listener's children, in memory, every option on.
type handshakeRig struct {
	env        *Env
	l          *Listener
	cout, sout Output
	ct         Tuple
}

func newHandshakeRig() *handshakeRig {
	env := NewEnv(DefaultConfig(), testSecret)
	return &handshakeRig{env: env, l: NewListener(env), ct: testTuple.Reverse()}
}

// handshake is SYN, SYN-ACK, ACK, then Accept. It returns both ends, or
// an error naming the states reached.
func (r *handshakeRig) handshake(now time.Duration) (client, server *Conn, err error) {
	c := NewActive(r.env, r.ct, now)
	c.Poll(now, &r.cout) // SYN
	s := r.l.Input(now, testTuple, &r.cout.Segs[0].Seg, &r.sout)
	r.cout.Reset()
	c.Input(now, &r.sout.Segs[0].Seg, &r.cout) // SYN-ACK
	r.sout.Reset()
	c.Poll(now, &r.cout) // ACK
	s.Input(now, &r.cout.Segs[0].Seg, &r.sout)
	r.cout.Reset()
	if c.State() != Established || s.State() != Established || r.l.Accept() != s {
		return nil, nil, fmt.Errorf("handshake failed: %v %v", c.State(), s.State())
	}
	return c, s, nil
}

// recycle aborts both ends and hands their TCBs back to the Env.
func (r *handshakeRig) recycle(now time.Duration, c, s *Conn) {
	c.Abort(now, &r.cout)
	s.Abort(now, &r.sout)
	r.cout.Reset()
	r.sout.Reset()
	r.env.Recycle(c)
	r.env.Recycle(s)
}

// BenchmarkHandshake is one full three-way handshake with fresh TCBs:
// the two Conns are its only allocations.
func BenchmarkHandshake(b *testing.B) {
	r := newHandshakeRig()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := r.handshake(time.Duration(i) * time.Microsecond); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshakePooled is a handshake whose TCBs come from
// Env.Recycle, then the aborts that end both connections: no allocation.
func BenchmarkHandshakePooled(b *testing.B) {
	r := newHandshakeRig()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := time.Duration(i) * time.Microsecond
		c, s, err := r.handshake(now)
		if err != nil {
			b.Fatal(err)
		}
		r.recycle(now, c, s)
	}
}

// TestHandshakePooledAllocs: with recycled TCBs a handshake (and the
// aborts that close it) allocates nothing, and without them only the two
// TCBs are allocated: no loss-recovery or congestion state before data.
func TestHandshakePooledAllocs(t *testing.T) {
	r := newHandshakeRig()
	now := time.Duration(0)
	run := func() {
		now += time.Millisecond
		c, s, err := r.handshake(now)
		if err != nil {
			t.Fatal(err)
		}
		r.recycle(now, c, s)
	}
	run() // fills the pool and the queues' arrays
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Fatalf("%v allocations per handshake with pooled TCBs, want 0", a)
	}
	fresh := newHandshakeRig()
	c, s, err := fresh.handshake(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Conn{c, s} {
		if x.lossState != nil || x.ca != nil || x.ka != nil {
			t.Fatalf("an idle %v connection carries loss %v, congestion %v or keep-alive %v state", x.State(), x.lossState != nil, x.ca != nil, x.ka != nil)
		}
	}
	if a := testing.AllocsPerRun(100, func() {
		now += time.Millisecond
		if _, _, err := fresh.handshake(now); err != nil {
			t.Fatal(err)
		}
	}); a != 2 {
		t.Fatalf("%v allocations per handshake with fresh TCBs, want 2 (the TCBs)", a)
	}
}

// TestRecycledTCBIsFresh: a recycled TCB that carried data and recovery
// state starts its next connection as a fresh one would.
func TestRecycledTCBIsFresh(t *testing.T) {
	r := newHandshakeRig()
	c, s, err := r.handshake(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	c.Poll(time.Millisecond, &r.cout)
	if c.lossState == nil || c.sb.empty() {
		t.Fatal("sending data recorded nothing on the scoreboard")
	}
	c.Abort(time.Millisecond, &r.cout)
	s.Abort(time.Millisecond, &r.sout)
	r.cout.Reset()
	r.sout.Reset()
	r.env.Recycle(s)
	r.env.Recycle(c) // last in, so the next active open takes it
	r.env.Recycle(c) // twice: ignored
	if len(r.env.tcbs.free) != 2 {
		t.Fatalf("%d TCBs pooled, want 2", len(r.env.tcbs.free))
	}
	c2, _, err := r.handshake(2 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c2 != c {
		t.Fatal("the active open did not reuse the pooled TCB")
	}
	if c2.lossState == nil || !c2.sb.empty() || c2.rec.state != recOpen || c2.rec.recover != c2.iss {
		t.Fatal("a reused TCB kept its old loss-recovery state")
	}
	if c2.snd.n != 0 || c2.Err() != nil || c2.tfo != nil || c2.ka != nil {
		t.Fatal("a reused TCB kept its old connection's state")
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
		c.Poll(now, &out) // an ACK every second segment (RFC 5681 §4.2)
		if len(out.Segs) > 1 {
			b.Fatalf("%d segments", len(out.Segs))
		}
		out.Reset()
	}
}
