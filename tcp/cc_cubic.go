package tcp

import (
	"math"
	"time"
)

// CUBIC (RFC 9438) with HyStart++ (RFC 9406) for the initial slow start.
// The window is kept in bytes; the cubic function works in segments of
// the current MSS and seconds, as the RFC writes it.

// RFC 9438 §5's constants.
const (
	cubicC     = 0.4
	cubicBeta  = 0.7
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta) // §4.3
)

type cubic struct {
	mss, cwnd, ssthresh uint32
	growth              float64 // fractional bytes of congestion-avoidance growth

	wMax      float64 // segments, before the last reduction (§4.7); 0: none
	cwndPrior float64 // segments, when ssthresh was last set (§4.3)
	inEpoch   bool    // a congestion-avoidance stage has begun
	tEpoch    time.Duration
	cwndEpoch float64 // segments
	k         float64 // seconds (§4.2 Figure 2)
	wEst      float64 // segments: the Reno-friendly estimate (§4.3)
	srtt      time.Duration
	// rtoHeld: the last event was an RTO and no new data has been
	// acknowledged since; a second RTO keeps ssthresh (RFC 5681 §3.1).
	rtoHeld bool
	hs      hystart

	prior cubicPrior // for Undo (§4.9)
}

// cubicPrior is the state a spurious congestion event restores.
type cubicPrior struct {
	valid           bool
	cwnd, ssthresh  uint32
	wMax, cwndPrior float64
}

func newCubic(mss uint32) *cubic {
	mss = clampMSS(mss)
	return &cubic{mss: mss, cwnd: initialWindow(mss), ssthresh: maxCwnd}
}

func (c *cubic) segs() float64 { return float64(c.cwnd) / float64(c.mss) }

func (c *cubic) OnAck(now time.Duration, acked uint32, rtt time.Duration, inflight uint32) {
	c.rtoHeld = false
	if rtt > 0 {
		if c.srtt == 0 {
			c.srtt = rtt
		} else {
			c.srtt += (rtt - c.srtt) / 8
		}
	}
	if c.cwnd < c.ssthresh {
		if !c.hs.done {
			grow, exit := c.hs.onAck(acked, rtt, inflight, c.mss)
			c.cwnd = min(c.cwnd+grow, maxCwnd)
			if exit {
				c.ssthresh = c.cwnd
			}
			return
		}
		// Slow start after an RTO: RFC 5681 §3.1 with RFC 3465's L = 2.
		c.cwnd = min(c.cwnd+min(acked, 2*c.mss), maxCwnd)
		return
	}
	c.hs.end()
	c.congestionAvoidance(now, acked)
}

// congestionAvoidance is RFC 9438 §4.2 to §4.5 for one ACK.
func (c *cubic) congestionAvoidance(now time.Duration, acked uint32) {
	cwnd := c.segs()
	if !c.inEpoch {
		// §4.2: a congestion-avoidance stage begins. Without an earlier
		// reduction (HyStart++ exit, after an RTO: §4.8) W_max is the
		// window now, so K = 0.
		c.inEpoch, c.tEpoch, c.cwndEpoch = true, now, cwnd
		c.wMax = max(c.wMax, cwnd)
		c.k = cubicK(c.wMax, c.cwndEpoch)
		c.wEst = c.cwndEpoch
	}
	t := satSub(now, c.tEpoch)
	segsAcked := float64(acked) / float64(c.mss)
	// §4.3: W_est grows like Reno with α_cubic, and with 1 once it has
	// passed the window at the last reduction.
	alpha := cubicAlpha
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst += alpha * segsAcked / cwnd
	if cubicWindow(t, c.k, c.wMax) < c.wEst {
		// §4.3: the Reno-friendly region.
		c.setSegs(max(cwnd, c.wEst))
		return
	}
	// §4.4, §4.5: grow towards W_cubic(t+RTT), at most 1.5 times cwnd.
	target := cubicWindow(satAdd(t, c.srtt), c.k, c.wMax)
	target = min(max(target, cwnd), 1.5*cwnd)
	c.growth += (target - cwnd) / cwnd * segsAcked * float64(c.mss)
	if c.growth >= 1 {
		g := min(c.growth, maxCwnd)
		c.cwnd = min(c.cwnd+uint32(g), maxCwnd)
		c.growth -= float64(uint32(g))
	}
}

func (c *cubic) setSegs(w float64) { c.cwnd = max(segsToBytes(w, c.mss), c.mss) }

func (c *cubic) save() {
	c.prior = cubicPrior{valid: true, cwnd: c.cwnd, ssthresh: c.ssthresh, wMax: c.wMax, cwndPrior: c.cwndPrior}
}

// reduce is §4.6 and §4.7: the multiplicative decrease with fast
// convergence, shared by loss, ECE and RTO.
func (c *cubic) reduce() {
	cwnd := c.segs()
	if cwnd < c.wMax {
		// §4.7: fast convergence, releasing bandwidth to newer flows.
		c.wMax = cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = cwnd
	}
	c.cwndPrior = cwnd
	c.ssthresh = max(segsToBytes(cwnd*cubicBeta, c.mss), 2*c.mss)
	c.inEpoch, c.growth = false, 0
	c.hs.end()
}

func (c *cubic) OnCongestionEvent(time.Duration, uint32) {
	c.save()
	c.reduce()
	c.cwnd = c.ssthresh // §4.6: cwnd = max(ssthresh, 2)
	c.rtoHeld = false
}

// OnRecoveryEnd starts congestion avoidance at ssthresh; the recovery code
// may size it lower (PRR).
func (c *cubic) OnRecoveryEnd(time.Duration) {
	c.cwnd = c.ssthresh
	c.inEpoch = false
}

// OnRTO is §4.8: ssthresh as for a loss, cwnd one segment, and the next
// congestion-avoidance stage starts a curve with K = 0 at its window.
func (c *cubic) OnRTO(time.Duration, uint32) {
	if !c.rtoHeld {
		c.save()
		c.reduce()
		c.wMax = 0
	}
	c.cwnd = c.mss
	c.inEpoch, c.growth = false, 0
	c.rtoHeld = true
	c.hs.end()
}

// Undo is §4.9: a spurious congestion event restores the state before it.
func (c *cubic) Undo(time.Duration) {
	p := c.prior
	if !p.valid {
		return
	}
	c.cwnd = max(c.cwnd, p.cwnd)
	c.ssthresh = max(c.ssthresh, p.ssthresh)
	c.wMax, c.cwndPrior = p.wMax, p.cwndPrior
	c.inEpoch, c.growth, c.rtoHeld = false, 0, false
	c.prior = cubicPrior{}
}

func (c *cubic) Cwnd() uint32      { return c.cwnd }
func (c *cubic) Ssthresh() uint32  { return c.ssthresh }
func (c *cubic) SetCwnd(w uint32)  { c.cwnd = min(max(w, 1), maxCwnd) }
func (c *cubic) SetMSS(mss uint32) { c.mss = clampMSS(mss) }

// cubicK is RFC 9438 §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch)/C), in
// seconds; 0 when the epoch starts at or above W_max.
func cubicK(wMax, cwndEpoch float64) float64 {
	d := wMax - cwndEpoch
	if !(d > 0) || math.IsInf(d, 0) {
		return 0
	}
	return math.Cbrt(d / cubicC)
}

// cubicWindow is RFC 9438 §4.2 Figure 1: W_cubic(t) = C*(t-K)^3 + W_max,
// in segments, t the time since the epoch began. Any input gives a
// finite result.
func cubicWindow(t time.Duration, k, wMax float64) float64 {
	d := t.Seconds() - k
	w := cubicC*d*d*d + wMax
	switch {
	case math.IsNaN(w):
		return 0
	case w > maxCwnd:
		return maxCwnd
	case w < -maxCwnd:
		return -maxCwnd
	}
	return w
}

// segsToBytes converts a window in segments to bytes, saturating at 0
// and maxCwnd (NaN gives 0).
func segsToBytes(w float64, mss uint32) uint32 {
	b := w * float64(mss)
	switch {
	case !(b > 0):
		return 0
	case b >= maxCwnd:
		return maxCwnd
	}
	return uint32(b)
}

// satAdd and satSub are a+b and a-b for durations, saturating instead of
// wrapping; satSub never goes below zero (time does not run backwards
// within an epoch, whatever the caller passes).
func satAdd(a, b time.Duration) time.Duration {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

func satSub(a, b time.Duration) time.Duration {
	if a <= b {
		return 0
	}
	d := a - b
	if d < 0 { // overflowed: a > 0 > b
		return math.MaxInt64
	}
	return d
}
