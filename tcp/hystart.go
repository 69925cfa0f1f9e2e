package tcp

import "time"

// HyStart++ (RFC 9406): leave the initial slow start when the RTT starts
// to rise, before the queue overflows, through a Conservative Slow Start
// (CSS) that undoes a false alarm.

// RFC 9406 §4.3's constants.
const (
	hsMinRTTThresh    = 4 * time.Millisecond
	hsMaxRTTThresh    = 16 * time.Millisecond
	hsMinRTTDivisor   = 8
	hsNRTTSample      = 8
	hsCSSGrowthDiv    = 4
	hsCSSRounds       = 5
	hsLimitSegsPerAck = 8 // L for a sender that does not pace
)

// hystart is the per-connection state of RFC 9406 §4.2. Rounds are counted
// in bytes delivered: a round ends when everything in flight at its start
// has been acknowledged, which is the RFC's "ACK >= windowEnd".
type hystart struct {
	done      bool // slow start ended (or never used HyStart++): §4.3 uses it only once
	css       bool // in Conservative Slow Start
	cssRounds int
	// RTT minima of the last and the current round; 0 means none yet
	// (the RFC's infinity).
	lastRoundMinRTT, currentRoundMinRTT time.Duration
	rttSamples                          int
	cssBaselineMinRTT                   time.Duration
	delivered, windowEnd                uint64
}

// onAck is one ACK of acked bytes in slow start, with its RTT sample rtt
// (0 if none) and the bytes still in flight after it. It returns the
// bytes cwnd grows by and whether slow start ends here, in which case
// the caller sets ssthresh to cwnd (§4.2: "enter congestion avoidance").
func (h *hystart) onAck(acked uint32, rtt time.Duration, inflight, mss uint32) (grow uint32, exit bool) {
	h.delivered += uint64(acked)
	if h.delivered >= h.windowEnd {
		// A round ends: the next one lasts until what is in flight now
		// has been acknowledged.
		h.windowEnd = h.delivered + uint64(inflight)
		h.lastRoundMinRTT, h.currentRoundMinRTT = h.currentRoundMinRTT, 0
		h.rttSamples = 0
		if h.css {
			h.cssRounds++
			if h.cssRounds >= hsCSSRounds {
				// §4.2: CSS_ROUNDS rounds without the RTT falling back.
				h.done = true
				return 0, true
			}
		}
	}
	grow = min(acked, hsLimitSegsPerAck*mss)
	if h.css {
		grow /= hsCSSGrowthDiv
	}
	if rtt > 0 {
		if h.currentRoundMinRTT == 0 || rtt < h.currentRoundMinRTT {
			h.currentRoundMinRTT = rtt
		}
		h.rttSamples++
	}
	if h.rttSamples < hsNRTTSample || h.currentRoundMinRTT == 0 {
		return grow, false
	}
	if !h.css {
		if h.lastRoundMinRTT == 0 {
			return grow, false
		}
		thresh := max(hsMinRTTThresh, min(h.lastRoundMinRTT/hsMinRTTDivisor, hsMaxRTTThresh))
		if h.currentRoundMinRTT >= h.lastRoundMinRTT+thresh {
			// §4.2: the delay rose; probe more gently.
			h.css, h.cssRounds = true, 0
			h.cssBaselineMinRTT = h.currentRoundMinRTT
		}
	} else if h.currentRoundMinRTT < h.cssBaselineMinRTT {
		// §4.2: the rise was spurious; back to slow start.
		h.css, h.cssBaselineMinRTT = false, 0
	}
	return grow, false
}

// end stops HyStart++ for good: a loss or ECE in slow start or CSS, or an
// RTO (§4.2, §4.3).
func (h *hystart) end() { h.done, h.css = true, false }
