package tcp

import "time"

// newReno is RFC 5681's slow start and congestion avoidance, with the
// window reductions of RFC 5681 §3.2 (fast retransmit) and §3.1 (RTO).
type newReno struct {
	mss      uint32
	cwnd     uint32
	ssthresh uint32
	// bytesAcked counts what congestion avoidance has seen acknowledged
	// since cwnd last grew (RFC 3465 §2.1).
	bytesAcked uint32
	// The state before the last reduction, for Undo.
	priorCwnd, priorSsthresh uint32
}

func newNewReno(mss uint32) *newReno {
	// RFC 5681 §3.1: ssthresh starts arbitrarily high.
	return &newReno{mss: clampMSS(mss), cwnd: initialWindow(mss), ssthresh: maxCwnd}
}

// OnAck grows the window. In congestion avoidance it counts the bytes
// acknowledged, as RFC 5681 §3.1 recommends over equation 3's per-ACK
// step: a receiver that delays its ACKs (one per two segments) would
// otherwise halve the growth, and a path with 2% loss ran at half the
// rate of a byte-counting Reno.
func (r *newReno) OnAck(_ time.Duration, acked uint32, _ time.Duration, _ uint32) {
	if r.cwnd < r.ssthresh {
		// RFC 5681 §3.1 equation 2: slow start, at most SMSS per ACK
		// (RFC 3465's larger L is experimental, not the standard).
		r.cwnd = min(r.cwnd+min(acked, r.mss), maxCwnd)
		r.bytesAcked = 0
		return
	}
	// RFC 5681 §3.1: once the bytes acknowledged reach cwnd, cwnd
	// grows by SMSS (RFC 3465 §2.1).
	r.bytesAcked += acked
	if r.bytesAcked >= r.cwnd {
		r.bytesAcked -= r.cwnd
		r.cwnd = min(r.cwnd+r.mss, maxCwnd)
	}
}

func (r *newReno) OnCongestionEvent(_ time.Duration, inflight uint32) {
	r.priorCwnd, r.priorSsthresh = r.cwnd, r.ssthresh
	// RFC 5681 §3.2 step 2, equation 4.
	r.ssthresh = max(inflight/2, 2*r.mss)
	r.cwnd = r.ssthresh
	r.bytesAcked = 0
}

// OnRecoveryEnd deflates to ssthresh (RFC 6582 §3.2 step 3, option 2);
// the recovery code may size it lower from the flight.
func (r *newReno) OnRecoveryEnd(time.Duration) { r.cwnd = r.ssthresh }

func (r *newReno) OnRTO(_ time.Duration, inflight uint32) {
	r.priorCwnd, r.priorSsthresh = r.cwnd, r.ssthresh
	// RFC 5681 §3.1 equation 4, and the loss window of one segment.
	r.ssthresh = max(inflight/2, 2*r.mss)
	r.cwnd = r.mss
	r.bytesAcked = 0
}

// Undo restores the window from before a spurious reduction (RFC 5682
// §3.1 step 3, RFC 6675 §5 and RFC 2883 undo as Linux does it: never
// lower than what recovery has since grown).
func (r *newReno) Undo(time.Duration) {
	if r.priorCwnd == 0 {
		return
	}
	r.cwnd = max(r.cwnd, r.priorCwnd)
	r.ssthresh = max(r.ssthresh, r.priorSsthresh)
	r.priorCwnd, r.priorSsthresh = 0, 0
}

func (r *newReno) Cwnd() uint32      { return r.cwnd }
func (r *newReno) Ssthresh() uint32  { return r.ssthresh }
func (r *newReno) SetCwnd(w uint32)  { r.cwnd = min(max(w, 1), maxCwnd) }
func (r *newReno) SetMSS(mss uint32) { r.mss = clampMSS(mss) }
