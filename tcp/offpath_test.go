package tcp

// Blind attacks by an off-path attacker who knows the 4-tuple of a bulk
// transfer and nothing else (RFC 5961 §1): RSTs at random and walking the
// sequence space a window at a time, SYNs, data and ACKs with guessed
// numbers, with and without timestamps. Nothing it sends may cost a byte,
// nor slow the transfer by more than a few percent: the answers it draws
// are limited per connection (ratelimit.go), so the sender does not see a
// stream of duplicate ACKs.

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// blindAttacker spoofs segments onto one connection, at rate per second,
// alternately at each end as if from the other.
type blindAttacker struct {
	rng      *rand.Rand
	n        *simNet
	t        Tuple // seen from n.a (the client)
	gap      time.Duration
	window   seqnum.Size // the step of the RST walk
	walk     seqnum.Value
	sent     int
	noTSopts bool
}

func (b *blindAttacker) next(now time.Duration) time.Duration {
	toServer := b.sent%2 == 0
	seg := Segment{Seq: seqnum.Value(b.rng.Uint32()), Ack: seqnum.Value(b.rng.Uint32()), Window: uint16(b.rng.Uint32())}
	if !b.noTSopts && b.rng.IntN(2) == 0 {
		seg.Options = wire.Options{HasTimestamps: true, TSVal: b.rng.Uint32(), TSEcr: b.rng.Uint32()}
	}
	switch (b.sent / 2) % 5 {
	case 0: // RST at random
		seg.Flags = flagRST
	case 1: // RST walking the sequence space, a window a step
		b.walk = b.walk.Add(b.window)
		seg.Seq, seg.Flags, seg.Options = b.walk, flagRST, wire.Options{}
	case 2:
		seg.Flags = flagSYN
	case 3:
		seg.Flags = flagACK | flagPSH
		seg.Payload = bytes.Repeat([]byte{'X'}, 512)
	case 4:
		seg.Flags = flagACK
	}
	b.sent++
	if toServer {
		b.n.b.input(now, b.t.Reverse(), &seg)
	} else {
		b.n.a.input(now, b.t, &seg)
	}
	return now + b.gap
}

// bulkTransfer sends size bytes from a client on n.a to n.b's listener and
// returns the simulated time from the first byte written to the last read,
// failing unless every byte arrives intact.
func bulkTransfer(t *testing.T, cfg Config, tu Tuple, size int, attack func(*simNet) *blindAttacker) (time.Duration, *simNet, *blindAttacker) {
	t.Helper()
	n := &simNet{a: newSimHost(cfg, 1, 0), b: newSimHost(cfg, 2, tu.RemotePort)}
	n.ab = simPath{rate: 12.5e6, delay: 5 * time.Millisecond} // 100 Mbit/s, 10 ms RTT
	n.ba = n.ab
	client, server := n.connect(tu)
	if server == nil {
		t.Fatal("no connection")
	}
	var b *blindAttacker
	if attack != nil {
		b = attack(n)
		n.inject, n.injectAt = b.next, n.now
	}
	start := n.now
	sent, got := 0, 0
	buf := make([]byte, 64<<10)
	src := pattern(0, size)
	done := n.run(start+10*time.Minute, func() bool {
		if client.State() != Established || server.State() != Established {
			t.Fatalf("client %v, server %v (%v)", client.State(), server.State(), server.Err())
		}
		if sent < size {
			w, _ := client.Write(src[sent:])
			sent += w
		}
		for {
			r, _ := server.Read(buf)
			if r == 0 {
				break
			}
			if !bytes.Equal(buf[:r], src[got:got+r]) {
				t.Fatalf("bytes %d..%d differ", got, got+r)
			}
			got += r
		}
		return got == size
	})
	if !done {
		t.Fatalf("transfer stalled at %d of %d bytes", got, size)
	}
	return n.now - start, n, b
}

func TestBlindInjectionDuringBulkTransfer(t *testing.T) {
	size := 16 << 20
	if raceEnabled || testing.Short() {
		size = 4 << 20
	}
	noOpts := DefaultConfig()
	noOpts.NoSACK, noOpts.NoTimestamps, noOpts.NoWindowScaling = true, true, true
	for _, tc := range []struct {
		name string
		cfg  Config
		tu   Tuple
	}{
		{"IPv4", DefaultConfig(), Tuple{LocalAddr: localAddr, RemoteAddr: remoteAddr, LocalPort: 40000, RemotePort: 80}},
		{"IPv6", DefaultConfig(), Tuple{LocalAddr: localAddr6, RemoteAddr: remoteAddr6, LocalPort: 40000, RemotePort: 80}},
		{"IPv4-no-options", noOpts, Tuple{LocalAddr: localAddr, RemoteAddr: remoteAddr, LocalPort: 40000, RemotePort: 80}},
		{"IPv6-no-options", noOpts, Tuple{LocalAddr: localAddr6, RemoteAddr: remoteAddr6, LocalPort: 40000, RemotePort: 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean, _, _ := bulkTransfer(t, tc.cfg, tc.tu, size, nil)
			rng := rand.New(rand.NewPCG(3000, uint64(len(tc.name))))
			attacked, n, b := bulkTransfer(t, tc.cfg, tc.tu, size, func(n *simNet) *blindAttacker {
				c := n.a.conns[tc.tu]
				return &blindAttacker{rng: rng, n: n, t: tc.tu, gap: time.Second / 3000,
					window: seqnum.Size(c.sndWnd), walk: seqnum.Value(rng.Uint32()), noTSopts: tc.cfg.NoTimestamps}
			})
			ratio := attacked.Seconds() / clean.Seconds()
			// The answers each end gave to invalid segments (the drops
			// that were answered) and those it skipped.
			var answered, skipped uint64
			for _, st := range []*Stats{&n.a.env.Stats, &n.b.env.Stats} {
				answered += st.Drops[DropOutOfWindow] + st.Drops[DropPAWSReject] + st.ChallengeAcks
				skipped += st.ACKSkippedSeq + st.ACKSkippedChallenge + st.ACKSkippedPAWS
			}
			// Amplification: at most one answer per connection per
			// interval (two connection ends here, plus a partial one).
			bound := 2 * (uint64(attacked/DefaultConfig().InvalidRateLimit) + 1)
			t.Logf("%d MiB: %v clean, %v under %d blind segments (%.0f/s): ratio %.4f; retransmitted %d; %d answers (bound %d), %d skipped",
				size>>20, clean, attacked, b.sent, float64(b.sent)/attacked.Seconds(), ratio, n.a.env.Stats.RetransSegs,
				answered, bound, skipped)
			if answered > bound {
				t.Errorf("%d answers to invalid segments in %v, more than one per connection per interval", answered, attacked)
			}
			if ratio > 1.10 {
				t.Fatalf("transfer took %.1f%% longer under attack", 100*(ratio-1))
			}
		})
	}
}

// Amplification: whatever an off-path attacker sends (RSTs, SYNs, data and
// ACKs with guessed numbers, RSTs and SYNs in the window, ACKs of data
// never sent, old and missing timestamps) at 10,000 packets/s, each
// connection answers at most once per Config.InvalidRateLimit, in every
// state that answers at all.
func TestAmplificationOneAnswerPerInterval(t *testing.T) {
	tsEstablished := func(tb testing.TB) *testConn { return tsConn(tb.(*testing.T)) }
	for _, tc := range []struct {
		name string
		mk   func(testing.TB) *testConn
	}{
		{"SYN-RECEIVED", connSynReceivedPassive},
		{"ESTABLISHED", connEstablished},
		{"ESTABLISHED-timestamps", tsEstablished},
		{"FIN-WAIT-1", connFinWait1},
		{"FIN-WAIT-2", connFinWait2},
		{"CLOSE-WAIT", connCloseWait},
		{"CLOSING", connClosing},
		{"LAST-ACK", connLastAck},
		{"TIME-WAIT", connTimeWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.mk(t)
			st := c.State()
			// Keep TIME-WAIT: with no listener to take it, a SYN does not
			// reopen it (RFC 9293 §3.10.7.4; random SYNs otherwise would).
			c.refuseReopen = true
			interval := c.env.Config.InvalidRateLimit
			rng := rand.New(rand.NewPCG(uint64(st), 1))
			start := c.now
			var answers []time.Duration
			sent := 0
			for c.now = start; c.now < start+10*time.Second; c.now += time.Second / 10000 {
				seg := Segment{Seq: seqnum.Value(rng.Uint32()), Ack: seqnum.Value(rng.Uint32()), Window: uint16(rng.Uint32())}
				if c.tsOK && rng.IntN(3) > 0 {
					seg.Options = wire.Options{HasTimestamps: true, TSVal: rng.Uint32()}
				}
				switch sent % 8 {
				case 0:
					seg.Flags = flagRST
				case 1:
					seg.Flags, seg.Seq = flagRST, c.rcvNxt.Add(1+seqnum.Size(rng.IntN(1000))) // in window, not exact
				case 2:
					seg.Flags = flagSYN
				case 3:
					seg.Flags, seg.Seq = flagSYN, c.rcvNxt // in window
					if st == SynReceived {
						// A passive SYN-RECEIVED child returns to LISTEN
						// on this one (RFC 9293 §3.10.7.4 fourth check).
						seg.Seq = c.rcvNxt.Sub(1 << 20)
					}
				case 4:
					seg.Flags, seg.Payload = flagACK, []byte("guess")
				case 5:
					seg.Flags = flagACK
				case 6:
					seg.Flags, seg.Seq, seg.Ack = flagACK, c.rcvNxt, c.sndMax.Add(1+seqnum.Size(rng.IntN(1<<20))) // ACK of data never sent
				case 7:
					seg.Flags, seg.Seq = flagACK|flagFIN, seqnum.Value(rng.Uint32())
				}
				if st == SynReceived && seg.Flags == flagSYN && seg.Seq.InWindow(c.rcvNxt, c.rcvWnd()) {
					// The same rule for a blind SYN that lands in the window.
					seg.Seq = seg.Seq.Add(1 << 31)
				}
				sent++
				c.Input(c.now, &seg, &c.out)
				c.Poll(c.now, &c.out)
				for _, s := range c.take(t) {
					if s.Flags&(flagSYN|flagFIN) == 0 { // not a retransmission of our SYN or FIN
						answers = append(answers, c.now)
					}
				}
				if c.State() != st {
					t.Fatalf("moved to %v after %d segments, the last %s (err %v)", c.State(), sent, fmtSeg(&seg), c.Err())
				}
			}
			for i := 1; i < len(answers); i++ {
				if d := answers[i] - answers[i-1]; d < interval {
					t.Fatalf("answers %d and %d only %v apart", i-1, i, d)
				}
			}
			if len(answers) < 10 {
				t.Fatalf("%d answers in 10 s: the limit should still let one through each interval", len(answers))
			}
			t.Logf("%v: %d segments in 10 s, %d answers (at most one per %v)", st, sent, len(answers), interval)
		})
	}
}
