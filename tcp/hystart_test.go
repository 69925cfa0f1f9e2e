package tcp

import (
	"testing"
	"time"
)

// ssRound feeds one round of slow start to c: one ACK per segment of the
// window, each with RTT rtt, the window kept full. It returns whether
// slow start ended.
func ssRound(c *cubic, now *time.Duration, rtt time.Duration) bool {
	n := int(c.Cwnd() / cubicTestMSS)
	for i := 0; i < n; i++ {
		*now += time.Millisecond
		c.OnAck(*now, cubicTestMSS, rtt, c.Cwnd())
		if c.Cwnd() >= c.Ssthresh() {
			return true
		}
	}
	return false
}

// RFC 9406 §4.2: with a steady RTT slow start doubles the window per
// round; when a round's minimum RTT exceeds the last round's by
// RttThresh = clamp(lastRoundMinRTT/8, 4 ms, 16 ms), CSS grows it by a
// quarter as fast, and after CSS_ROUNDS rounds congestion avoidance
// starts with ssthresh = cwnd.
func TestHyStartExitsOnRTTRise(t *testing.T) {
	c := newCubic(cubicTestMSS)
	var now time.Duration
	for i := 0; i < 3; i++ {
		before := c.Cwnd()
		if ssRound(c, &now, 40*time.Millisecond) {
			t.Fatal("left slow start at a steady RTT")
		}
		if i > 0 && c.Cwnd() != 2*before {
			t.Fatalf("round %d: cwnd %d -> %d, want doubling", i, before, c.Cwnd())
		}
	}
	// 40 ms + 4 ms is below the threshold (max(4 ms, 5 ms) = 5 ms).
	ssRound(c, &now, 44*time.Millisecond)
	if c.hs.css {
		t.Fatal("CSS on a rise below RttThresh")
	}
	// 50 ms is 6 ms over the last round's 44 ms, past 44/8 = 5.5 ms.
	ssRound(c, &now, 50*time.Millisecond)
	if !c.hs.css {
		t.Fatal("no CSS after the RTT rose by more than RttThresh")
	}
	// In CSS the window grows by acked/4 per ACK.
	before := c.Cwnd()
	c.OnAck(now, cubicTestMSS, 50*time.Millisecond, c.Cwnd())
	if g := c.Cwnd() - before; g != cubicTestMSS/hsCSSGrowthDiv {
		t.Fatalf("CSS grew cwnd by %d, want %d", g, cubicTestMSS/hsCSSGrowthDiv)
	}
	rounds := 0
	for !ssRound(c, &now, 50*time.Millisecond) {
		rounds++
		if rounds > hsCSSRounds+1 {
			t.Fatal("CSS did not end")
		}
	}
	if c.Ssthresh() != c.Cwnd() || !c.hs.done {
		t.Fatalf("after CSS: ssthresh %d cwnd %d", c.Ssthresh(), c.Cwnd())
	}
	if rounds < hsCSSRounds-1 {
		t.Fatalf("CSS lasted %d rounds, want %d", rounds, hsCSSRounds)
	}
}

// RFC 9406 §4.2: in CSS, a round whose minimum RTT falls below the
// baseline that started CSS returns to slow start.
func TestHyStartCSSBackToSlowStart(t *testing.T) {
	c := newCubic(cubicTestMSS)
	var now time.Duration
	ssRound(c, &now, 40*time.Millisecond)
	ssRound(c, &now, 40*time.Millisecond)
	ssRound(c, &now, 60*time.Millisecond)
	if !c.hs.css {
		t.Fatal("no CSS")
	}
	ssRound(c, &now, 40*time.Millisecond)
	if c.hs.css || c.hs.done {
		t.Fatalf("css %v done %v after the RTT fell back", c.hs.css, c.hs.done)
	}
}

// RFC 9406 §4.2: fewer than N_RTT_SAMPLE samples in a round decide
// nothing, however high the RTT.
func TestHyStartNeedsEightSamples(t *testing.T) {
	var h hystart
	for i := 0; i < 8; i++ { // one round, inflight 8 segments
		h.onAck(cubicTestMSS, 10*time.Millisecond, 8*cubicTestMSS, cubicTestMSS)
	}
	for i := 0; i < 7; i++ {
		h.onAck(cubicTestMSS, time.Second, 8*cubicTestMSS, cubicTestMSS)
	}
	if h.css {
		t.Fatal("CSS from 7 samples")
	}
	h.onAck(cubicTestMSS, time.Second, 8*cubicTestMSS, cubicTestMSS)
	if !h.css {
		t.Fatal("no CSS from 8 samples")
	}
}

// RFC 9406 §4.3: HyStart++ is for the initial slow start only; a loss
// ends it, and slow start after an RTO is standard.
func TestHyStartOnlyInitialSlowStart(t *testing.T) {
	c := newCubic(cubicTestMSS)
	c.OnRTO(0, c.Cwnd())
	if !c.hs.done {
		t.Fatal("HyStart++ still on after an RTO")
	}
	// RFC 9406 §4.2 L = 8 in HyStart++ slow start, RFC 3465 L = 2 after.
	c.OnAck(time.Second, 4*cubicTestMSS, 0, 0)
	if c.Cwnd() != 3*cubicTestMSS {
		t.Fatalf("cwnd %d after an ACK of 4 segments in standard slow start", c.Cwnd())
	}
	d := newCubic(cubicTestMSS)
	d.OnAck(0, 12*cubicTestMSS, 0, 0)
	if d.Cwnd() != initialWindow(cubicTestMSS)+8*cubicTestMSS {
		t.Fatalf("cwnd %d after an ACK of 12 segments in HyStart++ slow start", d.Cwnd())
	}
}
