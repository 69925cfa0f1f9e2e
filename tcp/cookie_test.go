package tcp

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/threeway-tcp/threeway/wire"
)

// cookieListener is a listener that answers every SYN with a cookie.
func cookieListener(cfg Config) (*Listener, *Env) {
	cfg.SynCookies = CookiesAlways
	env := newTestEnv(cfg)
	return NewListener(env), env
}

// cookieSynAck sends syn to l and returns the stateless SYN-ACK.
func cookieSynAck(t *testing.T, l *Listener, tu Tuple, now time.Duration, syn Segment) Segment {
	t.Helper()
	var out Output
	if c := l.Input(now, tu, &syn, &out); c != nil {
		t.Fatalf("cookie listener made a half-open child")
	}
	if len(out.Segs) != 1 || out.Segs[0].Seg.Flags != flagSYN|flagACK {
		t.Fatalf("want one SYN-ACK, got %d segments", len(out.Segs))
	}
	if h, _ := l.Pending(); h != 0 {
		t.Fatalf("cookie listener holds %d half-open entries", h)
	}
	return out.Segs[0].Seg
}

// finalAck is the peer's ACK of a SYN-ACK, echoing its timestamp.
func finalAck(synAck Segment, peerTS bool, payload []byte) Segment {
	ack := Segment{Seq: rseq(1), Ack: synAck.Seq + 1, Flags: flagACK, Window: 1000, Payload: payload}
	if peerTS {
		ack.Options.HasTimestamps = true
		ack.Options.TSVal = 7001
		ack.Options.TSEcr = synAck.Options.TSVal
	}
	return ack
}

// TestCookieRoundTripKeepsOptions: with timestamps, a cookie connection
// keeps MSS, window scale and SACK-permitted exactly as offered; without,
// only the MSS (RFC 4987 §3.6).
func TestCookieRoundTripKeepsOptions(t *testing.T) {
	for _, tu := range []Tuple{testTuple, testTuple6} {
		for _, ts := range []bool{true, false} {
			for _, ws := range []int{-1, 0, 7, 14} {
				for _, sack := range []bool{true, false} {
					for _, mss := range []uint16{536, 1220, 1400, 1460, 8960, 9000} {
						name := fmt.Sprintf("%v/ts=%v/ws=%d/sack=%v/mss=%d", tu.LocalAddr, ts, ws, sack, mss)
						t.Run(name, func(t *testing.T) {
							cfg := DefaultConfig()
							cfg.MTU = 9100
							l, env := cookieListener(cfg)
							syn := peerSYN
							syn.Options = wire.Options{HasMSS: true, MSS: mss, SACKPermitted: sack}
							if ws >= 0 {
								syn.Options.HasWScale, syn.Options.WScale = true, uint8(ws)
							}
							if ts {
								syn.Options.HasTimestamps, syn.Options.TSVal = true, 7000
							}
							now := 5 * time.Second
							sa := cookieSynAck(t, l, tu, now, syn)
							if sa.Ack != rseq(1) {
								t.Fatalf("SYN-ACK acks %v", sa.Ack)
							}
							if clock := uint32(now/time.Millisecond) + tsOffsetFor(env, tu); ts && sa.Options.TSVal > clock {
								t.Fatalf("cookie TSval %d ahead of the clock %d", sa.Options.TSVal, clock)
							}
							var out Output
							ack := finalAck(sa, ts, nil)
							c := l.Input(now+time.Second, tu, &ack, &out)
							if c == nil {
								t.Fatalf("valid cookie rejected (drops %v)", env.Stats.Drops[DropBadCookie])
							}
							if c.State() != Established || l.Accept() != c {
								t.Fatalf("cookie child %v not ready to accept", c.State())
							}
							n := c.Negotiated()
							wantMSS := uint16(536)
							for _, m := range cookieMSS {
								if m <= mss {
									wantMSS = m
								}
							}
							if n.SendMSS != wantMSS {
								t.Errorf("send MSS %d, want %d", n.SendMSS, wantMSS)
							}
							if n.Timestamps != ts {
								t.Errorf("timestamps %v", n.Timestamps)
							}
							if wantWS := ts && ws >= 0; n.WindowScale != wantWS || wantWS && n.SendShift != uint8(ws) {
								t.Errorf("window scale %v shift %d, want %v %d", n.WindowScale, n.SendShift, wantWS, ws)
							}
							if n.SACK != (ts && sack) {
								t.Errorf("SACK %v", n.SACK)
							}
							if !ts && env.Stats.SyncookiesNoTS != 1 {
								t.Errorf("SyncookiesNoTS %d", env.Stats.SyncookiesNoTS)
							}
							if env.Stats.SyncookiesSent != 1 || env.Stats.SyncookiesRecv != 1 || env.Stats.PassiveOpens != 1 {
								t.Errorf("counters %+v", env.Stats)
							}
						})
					}
				}
			}
		}
	}
}

func TestCookieRejections(t *testing.T) {
	syn := peerSYN
	syn.Options.HasTimestamps, syn.Options.TSVal = true, 7000
	cases := []struct {
		name  string
		after time.Duration
		edit  func(*Segment)
		ok    bool
	}{
		{"valid two ticks later", 2 * CookieTick, func(*Segment) {}, true},
		{"stale counter", 3*CookieTick + time.Second, func(*Segment) {}, false},
		{"forged hash", 0, func(s *Segment) { s.Ack ^= 0x10 }, false},
		{"wrong ack", 0, func(s *Segment) { s.Ack++ }, false},
		{"wrong peer ISN", 0, func(s *Segment) { s.Seq++ }, false},
		{"altered options in TSecr", 0, func(s *Segment) { s.Options.TSEcr ^= cookieSACK }, false},
		{"timestamps dropped", 0, func(s *Segment) { s.Options.HasTimestamps = false }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, env := cookieListener(DefaultConfig())
			now := 10 * time.Second
			sa := cookieSynAck(t, l, testTuple, now, syn)
			ack := finalAck(sa, true, nil)
			tc.edit(&ack)
			var out Output
			c := l.Input(now+tc.after, testTuple, &ack, &out)
			if (c != nil) != tc.ok {
				t.Fatalf("accepted=%v, want %v", c != nil, tc.ok)
			}
			if !tc.ok {
				if env.Stats.SyncookiesFailed != 1 || env.Stats.Drops[DropBadCookie] != 1 {
					t.Fatalf("failure not counted: %+v", env.Stats)
				}
				// RFC 9293 §3.10.7.2: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
				if len(out.Segs) != 1 || out.Segs[0].Seg.Flags != flagRST || out.Segs[0].Seg.Seq != ack.Ack {
					t.Fatalf("want RST with SEQ=SEG.ACK, got %v", out.Segs)
				}
			}
		})
	}
}

func TestCookieAckWithDataCompletesConnection(t *testing.T) {
	l, _ := cookieListener(DefaultConfig())
	syn := peerSYN
	syn.Options.HasTimestamps, syn.Options.TSVal = true, 7000
	sa := cookieSynAck(t, l, testTuple, 0, syn)
	ack := finalAck(sa, true, []byte("GET / HTTP/1.0\r\n\r\n"))
	ack.Flags |= flagPSH
	var out Output
	c := l.Input(time.Millisecond, testTuple, &ack, &out)
	if c == nil {
		t.Fatal("ACK with data did not complete the cookie handshake")
	}
	buf := make([]byte, 100)
	n, _ := c.Read(buf)
	if string(buf[:n]) != "GET / HTTP/1.0\r\n\r\n" {
		t.Fatalf("read %q", buf[:n])
	}
	c.Poll(time.Millisecond, &out)
	last := out.Segs[len(out.Segs)-1].Seg
	if last.Ack != rseq(1+len(ack.Payload)) {
		t.Fatalf("data not acknowledged: ack %v", last.Ack)
	}
}

func TestCookieNeverCompletedByRSTAck(t *testing.T) {
	l, env := cookieListener(DefaultConfig())
	sa := cookieSynAck(t, l, testTuple, 0, peerSYN)
	rst := finalAck(sa, false, nil)
	rst.Flags |= flagRST
	var out Output
	if c := l.Input(0, testTuple, &rst, &out); c != nil || env.Stats.SyncookiesRecv != 0 {
		t.Fatal("RST+ACK completed a cookie connection")
	}
	if len(out.Segs) != 0 {
		t.Fatal("a RST was answered")
	}
}

// With cookies on when the queue is full, the queue stops growing and the
// SYNs past it are answered statelessly.
func TestCookiesWhenSynQueueFull(t *testing.T) {
	l, env := listener(t)
	l.SynQueue = 4
	var out Output
	for i := 0; i < 100; i++ {
		tu := testTuple
		tu.RemotePort = uint16(1000 + i)
		syn := peerSYN
		l.Input(0, tu, &syn, &out)
	}
	if h, _ := l.Pending(); h != 4 {
		t.Fatalf("half-open %d, want 4", h)
	}
	if env.Stats.SyncookiesSent != 96 || len(out.Segs) != 100 {
		t.Fatalf("cookies %d, SYN-ACKs %d", env.Stats.SyncookiesSent, len(out.Segs))
	}
}

// The listener path makes no allocation per SYN while cookies are on.
func TestCookieSynDoesNotAllocate(t *testing.T) {
	l, _ := cookieListener(DefaultConfig())
	var out Output
	syn := peerSYN
	syn.Options.HasTimestamps, syn.Options.TSVal = true, 7000
	syn.Options.SACKPermitted = true
	syn.Options.HasWScale, syn.Options.WScale = true, 7
	tu := testTuple
	allocs := testing.AllocsPerRun(1000, func() {
		out.Reset()
		tu.RemotePort++
		syn.Seq += 7
		l.Input(0, tu, &syn, &out)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per SYN", allocs)
	}
}

// TestHalfOpenEntrySize reports what one half-open connection costs: the
// TCB alone, as no buffer is allocated before data flows.
func TestHalfOpenEntrySize(t *testing.T) {
	size := unsafe.Sizeof(Conn{})
	t.Logf("a half-open entry (tcp.Conn, no buffers) is %d bytes", size)
	if size > 544 {
		t.Fatalf("tcp.Conn grew to %d bytes", size)
	}
	l, _ := listener(t)
	var out Output
	syn := peerSYN
	c := l.Input(0, testTuple, &syn, &out)
	if c.snd.buf != nil || c.rcv.buf != nil {
		t.Fatal("a half-open child holds buffers")
	}
}

func BenchmarkCookieSyn(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SynCookies = CookiesAlways
	l := NewListener(NewEnv(cfg, testSecret))
	var out Output
	syn := peerSYN
	syn.Options.HasTimestamps, syn.Options.TSVal = true, 7000
	tu := testTuple
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out.Reset()
		tu.RemotePort++
		l.Input(0, tu, &syn, &out)
	}
}

// The final ACK of a SYN-cookie handshake is cut to the receive window
// like any segment: a large one cannot overrun the buffer.
func TestCookieAckTextTrimmedToWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RecvBuffer = 4096
	l, _ := cookieListener(cfg)
	sa := cookieSynAck(t, l, testTuple, 0, peerSYN)
	ack := finalAck(sa, false, make([]byte, 9000))
	var out Output
	c := l.Input(time.Millisecond, testTuple, &ack, &out)
	if c == nil {
		t.Fatal("cookie rejected")
	}
	if c.Readable() > 4096 || c.rcv.free() < 0 {
		t.Fatalf("readable %d, free %d: the buffer overran", c.Readable(), c.rcv.free())
	}
}

// A cookie sent without timestamps stays without them even if the final
// ACK carries a timestamp whose echo happens to end in the "none" marker
// (RFC 7323 §3.2: timestamps need both SYNs).
func TestCookieWithoutTimestampsIgnoresLaterTSopt(t *testing.T) {
	l, _ := cookieListener(DefaultConfig())
	sa := cookieSynAck(t, l, testTuple, 0, peerSYN)
	ack := finalAck(sa, true, nil)
	ack.Options.TSEcr = 0x1234_003f
	var out Output
	c := l.Input(time.Millisecond, testTuple, &ack, &out)
	if c == nil {
		t.Fatal("cookie rejected")
	}
	if n := c.Negotiated(); n.Timestamps || n.SACK || n.WindowScale {
		t.Fatalf("options appeared that no SYN-ACK offered: %+v", n)
	}
}
