package tcp

import (
	"math"
	"testing"
	"time"
)

const cubicTestMSS = 1000

// cubicAt returns a CUBIC sender that had a loss at w segments: W_max = w,
// cwnd = ssthresh = 0.7 w (RFC 9438 §4.6), HyStart++ over.
func cubicAt(w float64) *cubic {
	c := newCubic(cubicTestMSS)
	c.SetCwnd(uint32(w * cubicTestMSS))
	c.OnCongestionEvent(0, c.Cwnd())
	return c
}

// ackRounds feeds c one ACK per segment of its window per RTT, starting
// at start, until the time end, calling check after each round.
func ackRounds(c *cubic, start, end, rtt time.Duration, check func(now time.Duration)) {
	for now := start; now < end; now += rtt {
		n := int(c.Cwnd() / cubicTestMSS)
		for i := 0; i < n; i++ {
			c.OnAck(now+rtt*time.Duration(i)/time.Duration(n), cubicTestMSS, rtt, c.Cwnd())
		}
		if check != nil {
			check(now + rtt)
		}
	}
}

// RFC 9438 §4.6: a congestion event sets ssthresh = cwnd * β_cubic and
// cwnd = ssthresh; §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch)/C).
func TestCubicReductionAndK(t *testing.T) {
	c := cubicAt(100)
	if c.Ssthresh() != 70*cubicTestMSS || c.Cwnd() != 70*cubicTestMSS {
		t.Fatalf("ssthresh %d cwnd %d, want 70 segments each", c.Ssthresh(), c.Cwnd())
	}
	if c.wMax != 100 {
		t.Fatalf("W_max %v", c.wMax)
	}
	c.OnAck(time.Second, cubicTestMSS, 100*time.Millisecond, c.Cwnd())
	if want := math.Cbrt(30 / 0.4); math.Abs(c.k-want) > 1e-9 {
		t.Fatalf("K = %v, want %v", c.k, want)
	}
	if c.tEpoch != time.Second || c.cwndEpoch != 70 {
		t.Fatalf("epoch at %v with cwnd %v", c.tEpoch, c.cwndEpoch)
	}
}

// RFC 9438 §4.4, §4.5: in congestion avoidance cwnd follows
// W_cubic(t) = C*(t-K)^3 + W_max: concave up to W_max at t = K, convex
// after it. With a 200 ms RTT the Reno-friendly estimate stays below.
func TestCubicWindowFollowsCubicFunction(t *testing.T) {
	const rtt = 200 * time.Millisecond
	c := cubicAt(100)
	k := math.Cbrt(30 / cubicC)
	ackRounds(c, 0, 7*time.Second, rtt, func(now time.Duration) {
		want := cubicC*math.Pow(now.Seconds()-k, 3) + 100
		got := float64(c.Cwnd()) / cubicTestMSS
		// cwnd aims at W_cubic(t+RTT) one RTT ahead, within a segment
		// or two of rounding and per-ACK stepping.
		ahead := cubicC*math.Pow((now+rtt).Seconds()-k, 3) + 100
		if got < want-2 || got > ahead+2 {
			t.Fatalf("t=%v: cwnd %.1f segments, W_cubic(t) %.1f, W_cubic(t+RTT) %.1f", now, got, want, ahead)
		}
		if c.wEst >= want {
			t.Fatalf("t=%v: W_est %.1f above W_cubic %.1f: not the cubic region", now, c.wEst, want)
		}
	})
	// Past K the window is convex, above W_max.
	if c.Cwnd() <= 100*cubicTestMSS {
		t.Fatalf("cwnd %d at t=7s, want above W_max", c.Cwnd())
	}
}

// RFC 9438 §4.3: where Reno would grow faster (short RTT, small window),
// cwnd follows W_est = cwnd_epoch + α_cubic*t/RTT, α_cubic = 3(1-β)/(1+β),
// and α becomes 1 once W_est has passed cwnd_prior.
func TestCubicRenoFriendlyRegion(t *testing.T) {
	const rtt = 2 * time.Millisecond
	c := cubicAt(10) // cwnd 7, cwnd_prior 10, K = cbrt(7.5) s
	rounds := 0
	ackRounds(c, 0, 20*rtt, rtt, func(now time.Duration) {
		rounds++
		wc := cubicWindow(now, c.k, c.wMax)
		if c.wEst <= wc {
			t.Fatalf("round %d: W_est %.2f not above W_cubic %.2f", rounds, c.wEst, wc)
		}
		if got := float64(c.Cwnd()) / cubicTestMSS; math.Abs(got-c.wEst) > 1 {
			t.Fatalf("round %d: cwnd %.2f, W_est %.2f", rounds, got, c.wEst)
		}
	})
	// The first rounds grow by about α_cubic (0.53) per round, the later
	// ones (W_est >= cwnd_prior = 10) by one segment per round.
	c2 := cubicAt(10)
	ackRounds(c2, 0, rtt, rtt, nil)
	if g := c2.wEst - 7; math.Abs(g-cubicAlpha) > 0.05 {
		t.Fatalf("first round grew W_est by %.3f, want α_cubic %.3f", g, cubicAlpha)
	}
	before := c.wEst
	ackRounds(c, 20*rtt, 21*rtt, rtt, nil)
	if g := c.wEst - before; math.Abs(g-1) > 0.1 {
		t.Fatalf("round past cwnd_prior grew W_est by %.3f, want 1", g)
	}
}

// RFC 9438 §4.7: a loss below the last W_max sets W_max = cwnd*(1+β)/2
// (fast convergence); a loss above it sets W_max = cwnd.
func TestCubicFastConvergence(t *testing.T) {
	c := cubicAt(100)
	c.SetCwnd(80 * cubicTestMSS)
	c.OnCongestionEvent(time.Second, c.Cwnd())
	if want := 80 * (1 + cubicBeta) / 2; math.Abs(c.wMax-want) > 1e-9 {
		t.Fatalf("W_max %v, want %v", c.wMax, want)
	}
	if c.Ssthresh() != 56*cubicTestMSS {
		t.Fatalf("ssthresh %d", c.Ssthresh())
	}
	c.SetCwnd(120 * cubicTestMSS)
	c.OnCongestionEvent(2*time.Second, c.Cwnd())
	if c.wMax != 120 {
		t.Fatalf("W_max %v after a loss above it, want 120", c.wMax)
	}
}

// RFC 9438 §4.8: an RTO sets ssthresh as a loss does and cwnd to one
// segment; the next congestion-avoidance stage has K = 0 and W_max =
// cwnd at its start. RFC 5681 §3.1: a second RTO keeps ssthresh.
func TestCubicRTO(t *testing.T) {
	c := newCubic(cubicTestMSS)
	c.SetCwnd(50 * cubicTestMSS)
	c.OnRTO(0, c.Cwnd())
	if c.Cwnd() != cubicTestMSS || c.Ssthresh() != 35*cubicTestMSS {
		t.Fatalf("cwnd %d ssthresh %d", c.Cwnd(), c.Ssthresh())
	}
	c.OnRTO(time.Second, c.Cwnd())
	if c.Ssthresh() != 35*cubicTestMSS {
		t.Fatalf("second RTO moved ssthresh to %d", c.Ssthresh())
	}
	// Slow start back to ssthresh, then congestion avoidance at K = 0.
	for now := 2 * time.Second; c.Cwnd() < c.Ssthresh(); now += time.Millisecond {
		c.OnAck(now, cubicTestMSS, 10*time.Millisecond, c.Cwnd())
	}
	c.OnAck(3*time.Second, cubicTestMSS, 10*time.Millisecond, c.Cwnd())
	if c.k != 0 || c.wMax != c.cwndEpoch {
		t.Fatalf("after RTO: K %v, W_max %v, cwnd_epoch %v", c.k, c.wMax, c.cwndEpoch)
	}
}

// RFC 9438 §4.9: a spurious congestion event restores cwnd, ssthresh and
// W_max from before it.
func TestCubicUndo(t *testing.T) {
	c := cubicAt(100)
	c.SetCwnd(90 * cubicTestMSS)
	c.OnCongestionEvent(time.Second, c.Cwnd())
	c.Undo(2 * time.Second)
	if c.Cwnd() != 90*cubicTestMSS || c.Ssthresh() != 70*cubicTestMSS || c.wMax != 100 {
		t.Fatalf("after undo: cwnd %d ssthresh %d W_max %v", c.Cwnd(), c.Ssthresh(), c.wMax)
	}
	c.Undo(3 * time.Second) // nothing left to undo
	if c.Cwnd() != 90*cubicTestMSS {
		t.Fatal("second undo changed the window")
	}
}

// The arithmetic saturates: huge times, windows and MSS values give a
// window within [1, maxCwnd], never a panic, NaN or wrap.
func TestCubicSaturates(t *testing.T) {
	for _, tc := range []struct {
		t       time.Duration
		k, wMax float64
	}{
		{math.MaxInt64, 0, 0}, {math.MinInt64, 1e300, 1e300}, {0, math.Inf(1), math.Inf(-1)},
		{time.Hour, math.NaN(), 1}, {-time.Hour, 0, -1e308},
	} {
		w := cubicWindow(tc.t, tc.k, tc.wMax)
		if math.IsNaN(w) || w > maxCwnd || w < -maxCwnd {
			t.Errorf("cubicWindow(%v, %v, %v) = %v", tc.t, tc.k, tc.wMax, w)
		}
	}
	if satAdd(math.MaxInt64, 1) != math.MaxInt64 || satAdd(math.MinInt64, -1) != math.MinInt64 ||
		satSub(math.MaxInt64, math.MinInt64) != math.MaxInt64 || satSub(1, 2) != 0 {
		t.Error("saturating time arithmetic wrapped")
	}
	c := newCubic(65535)
	c.SetCwnd(maxCwnd)
	c.OnAck(0, math.MaxUint32, math.MaxInt64, math.MaxUint32)
	c.OnAck(math.MaxInt64, math.MaxUint32, math.MaxInt64, math.MaxUint32)
	if c.Cwnd() > maxCwnd || c.Cwnd() == 0 {
		t.Fatalf("cwnd %d", c.Cwnd())
	}
}

// FuzzCubic drives CUBIC with arbitrary events, times, sizes and MSS
// changes: nothing panics and the window stays within [1, maxCwnd].
func FuzzCubic(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Add([]byte{5, 0, 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newCubic(1460)
		next := func(n int) uint64 {
			var v uint64
			for i := 0; i < n && len(data) > 0; i++ {
				v = v<<8 | uint64(data[0])
				data = data[1:]
			}
			return v
		}
		for len(data) > 0 {
			op := next(1) % 8
			now := time.Duration(next(8))
			x := uint32(next(4))
			switch op {
			case 0, 1, 2:
				c.OnAck(now, x, time.Duration(next(8)), uint32(next(4)))
			case 3:
				c.OnCongestionEvent(now, x)
			case 4:
				c.OnRTO(now, x)
			case 5:
				c.Undo(now)
			case 6:
				c.SetCwnd(x)
			case 7:
				c.SetMSS(x)
			}
			if w := c.Cwnd(); w == 0 || w > maxCwnd {
				t.Fatalf("op %d: cwnd %d", op, w)
			}
			if s := c.Ssthresh(); s == 0 || s > maxCwnd {
				t.Fatalf("op %d: ssthresh %d", op, s)
			}
			if math.IsNaN(c.k) || math.IsNaN(c.wEst) || math.IsNaN(c.wMax) || math.IsNaN(c.growth) {
				t.Fatalf("op %d: NaN in %+v", op, c)
			}
		}
	})
}
