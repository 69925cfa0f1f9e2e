package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// rack is RFC 8985's RACK state: the most recently sent segment known
// delivered, and the reordering window that decides how long an older
// segment may still be in flight before it is deemed lost.
type rack struct {
	xmitTS  time.Duration // RACK.xmit_ts: send time of the newest segment delivered
	endSeq  seqnum.Value  // RACK.end_seq
	rtt     time.Duration // RACK.rtt: RTT of that segment
	minRTT  time.Duration // RACK.min_RTT
	valid   bool          // something has been delivered since the connection began
	advance bool          // this ACK delivered a segment newer than xmitTS

	reorderingSeen bool // RACK.reordering_seen (RFC 8985 §6.2 step 3)
	reoWndMult     int  // RACK.reo_wnd_mult
	reoWndPersist  int  // RACK.reo_wnd_persist
	dsackRound     seqnum.Value
	dsackRoundSet  bool
}

func (r *rack) init() {
	*r = rack{reoWndMult: 1}
}

// sentAfter is RFC 8985's RACK_sent_after: t1/seq1 was sent after t2/seq2.
func sentAfter(t1 time.Duration, seq1 seqnum.Value, t2 time.Duration, seq2 seqnum.Value) bool {
	return t1 > t2 || t1 == t2 && seq1.GreaterThan(seq2)
}

// delivered is RFC 8985 §6.2 steps 2 and 3 for one segment that this ACK
// newly acknowledged or SACKed; fack is RACK.fack before this ACK.
func (r *rack) delivered(s *txSeg, now time.Duration, fack seqnum.Value) {
	rtt := now - s.sentAt
	if s.flags&segEverRetrans != 0 {
		// Step 2: for a retransmitted segment the sample is ambiguous;
		// use it only if it cannot belong to an earlier transmission.
		// (Three quarters of min_RTT: a small segment, such as a
		// probe of a short tail, crosses the path a little faster
		// than the full-sized ones min_RTT was measured on.)
		if rtt < r.minRTT*3/4 {
			if s.end.LessThan(fack) {
				// Sooner than any round trip: the original, not
				// the retransmission, was delivered, late. The
				// retransmission was not needed; the network
				// reorders.
				r.reorderingSeen = true
			}
			return
		}
		// RFC 8985 step 2 would also skip when TSecr predates the
		// retransmission; but a receiver updates TS.Recent only for
		// in-order text (RFC 7323 §4.3), so the SACK of a resent
		// segment above a hole (a tail loss probe's) echoes an older
		// TSval. Like Linux, rely on min_RTT alone.
	} else if s.end.LessThan(fack) {
		// Step 3: an original transmission delivered below the highest
		// SACKed sequence arrived out of order.
		r.reorderingSeen = true
	}
	if rtt <= 0 {
		rtt = time.Microsecond
	}
	if !r.valid || rtt < r.minRTT {
		r.minRTT = rtt
	}
	if !r.valid || sentAfter(s.sentAt, s.end, r.xmitTS, r.endSeq) {
		r.rtt = rtt
		r.xmitTS, r.endSeq = s.sentAt, s.end
		r.valid = true
		r.advance = true
	}
}

// onDSACK is the DSACK half of RFC 8985 §6.2 step 4: the reordering
// window grows by a quarter of min_RTT for each round trip in which a
// DSACK arrives, and stays so for 16 recoveries.
func (r *rack) onDSACK(sndUna, sndMax seqnum.Value) {
	if r.dsackRoundSet && sndUna.GreaterThanEq(r.dsackRound) {
		r.dsackRoundSet = false
	}
	if !r.dsackRoundSet {
		r.dsackRound, r.dsackRoundSet = sndMax, true
		r.reoWndMult++
		r.reoWndPersist = 16
	}
	// A DSACK shows that the network reorders (RFC 8985 §6.2 step 3).
	r.reorderingSeen = true
}

// recoveryEnded counts a recovery without DSACKs towards resetting the
// window (RFC 8985 §6.2 step 4).
func (r *rack) recoveryEnded() {
	if r.reoWndPersist > 0 {
		r.reoWndPersist--
		if r.reoWndPersist == 0 {
			r.reoWndMult = 1
		}
	}
}

// reoWnd is RFC 8985 §6.2 step 4's RACK.reo_wnd. Before any reordering
// is seen it is zero in recovery or once DupThresh segments are SACKed,
// which makes RACK act as the classic three-duplicate rule.
func (r *rack) reoWnd(inRecovery bool, segsSACKed int, srtt time.Duration) time.Duration {
	if !r.reorderingSeen && (inRecovery || segsSACKed >= dupThresh) {
		return 0
	}
	w := time.Duration(r.reoWndMult) * r.minRTT / 4
	if srtt > 0 && w > srtt {
		w = srtt
	}
	return w
}

// detectLoss is RFC 8985 §6.2 step 5: every segment sent before the
// newest delivered one and outstanding for longer than RACK.rtt plus the
// reordering window is lost. It returns how long until the next segment
// would be, for the reordering timer (0 if none waits).
func (c *Conn) rackDetectLoss(now time.Duration) (marked bool, wait time.Duration) {
	r := &c.rack
	if !r.valid {
		return false, 0
	}
	reo := r.reoWnd(c.rec.state != recOpen, c.rec.segsSACKed(c), c.srtt)
	sb := &c.sb
	for k := sb.head; k < len(sb.segs); k++ {
		s := &sb.segs[k]
		if s.flags&segEverRetrans == 0 && !s.start.LessThan(r.endSeq) {
			// Original transmissions past RACK.end_seq all went out
			// after it; only retransmissions beyond might be older.
			if !c.rec.highRetransSet || !s.start.LessThan(c.rec.highRetrans) {
				break
			}
		}
		if s.flags&segSACKed != 0 || s.flags&(segLost|segRetrans) == segLost {
			continue
		}
		if !sentAfter(r.xmitTS, r.endSeq, s.sentAt, s.end) {
			continue
		}
		remaining := s.sentAt + r.rtt + reo - now
		if remaining <= 0 {
			sb.markLost(k)
			marked = true
		} else if wait == 0 || remaining > wait {
			wait = remaining
		}
	}
	return marked, wait
}
