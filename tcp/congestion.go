package tcp

import "time"

// congestion is NewReno's window arithmetic: slow start and congestion
// avoidance (RFC 5681 §3.1), the reduction on a loss (RFC 5681 §3.2
// step 2) or a timeout (§3.1 equation 4), and the state Undo restores.
// Deciding what was lost, and what to send in recovery, is recovery.go's.
type congestion struct {
	cwnd     uint32
	ssthresh uint32
	mss      uint32
	// Before the last reduction, for Undo (RFC 8985 §9.3, RFC 5682 §4).
	priorCwnd, priorSsthresh uint32
}

func (cc *congestion) init(c *Conn) {
	mss := uint32(c.EffectiveMSS())
	// RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)).
	*cc = congestion{cwnd: min(10*mss, max(2*mss, 14600)), ssthresh: 1 << 30, mss: mss} // RFC 5681 §3.1: arbitrarily high
}

// OnAck grows the window for acked octets newly delivered outside recovery.
func (cc *congestion) OnAck(now time.Duration, acked uint32, rtt time.Duration, inflight uint32) {
	if cc.cwnd < cc.ssthresh {
		cc.cwnd += min(acked, cc.mss) // slow start
	} else {
		cc.cwnd += max(1, cc.mss*cc.mss/cc.cwnd) // congestion avoidance
	}
}

// OnCongestionEvent is RFC 5681 §3.2 step 2: ssthresh = max(FlightSize/2, 2*SMSS).
func (cc *congestion) OnCongestionEvent(now time.Duration, inflight uint32) {
	cc.priorCwnd, cc.priorSsthresh = cc.cwnd, cc.ssthresh
	cc.ssthresh = max(inflight/2, 2*cc.mss)
}

// OnRecoveryEnd leaves recovery with cwnd = ssthresh (RFC 6937 §3.1).
func (cc *congestion) OnRecoveryEnd(now time.Duration) { cc.cwnd = cc.ssthresh }

// OnRTO is RFC 5681 §3.1 equation 4 and the loss window of one segment.
func (cc *congestion) OnRTO(now time.Duration, inflight uint32) {
	cc.priorCwnd, cc.priorSsthresh = cc.cwnd, cc.ssthresh
	cc.ssthresh = max(inflight/2, 2*cc.mss)
	cc.cwnd = cc.mss
}

// Undo restores the window from before the last reduction, which proved
// spurious (RFC 4015 §3.2's response: cwnd and ssthresh as they were).
func (cc *congestion) Undo(now time.Duration) {
	if cc.priorCwnd == 0 {
		return
	}
	cc.cwnd = max(cc.cwnd, cc.priorCwnd)
	cc.ssthresh = max(cc.ssthresh, cc.priorSsthresh)
	cc.priorCwnd = 0
}

func (cc *congestion) Cwnd() uint32     { return cc.cwnd }
func (cc *congestion) Ssthresh() uint32 { return cc.ssthresh }
func (cc *congestion) SetCwnd(w uint32) { cc.cwnd = max(w, cc.mss) }

// Cwnd returns the congestion window in bytes.
func (c *Conn) Cwnd() uint32 { return c.cc.Cwnd() }
