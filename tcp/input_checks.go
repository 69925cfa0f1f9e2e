package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// The first, second, fourth and fifth steps of RFC 9293 §3.10.7.4 for
// SYN-RECEIVED and the synchronized states: sequence number, RST, SYN,
// ACK. input.go runs them in order.

// simultaneousSynAck reports a SYN-ACK that repeats the peer's SYN in a
// simultaneous open. RFC 9293 §3.5 figure 7 line 6 (MUST-10): it lies
// just left of the window. Trimming the SYN off (§3.10.7.4: "trimming
// off any portions that lie outside the window (including SYN and
// FIN)") leaves an ACK at RCV.NXT that completes the handshake, as the
// figure shows. Checked strictly it would be unacceptable and cost both
// ends one more exchange (the problem RFC 9293 Appendix A.2 describes).
func (c *Conn) simultaneousSynAck(seg *Segment) bool {
	return c.state == SynReceived && !c.passive && seg.has(flagSYN) && !seg.has(flagRST) &&
		seg.has(flagACK) && seg.Seq == c.irs
}

// checkSequence is RFC 9293 §3.10.7.4's first step, with what must come
// before it: the RST for an ACK of something never sent in SYN-RECEIVED
// (resetBadAck), RFC 5961 §4.2's answer to any SYN, and RFC 7323's
// timestamp checks (§3.2, and PAWS, §5.3 R1, ahead of the window test).
func (c *Conn) checkSequence(now time.Duration, seg *Segment, out *Output) bool {
	syn, rst := seg.has(flagSYN), seg.has(flagRST)
	if c.state == SynReceived && !rst && seg.has(flagACK) && c.badSynReceivedAck(seg) {
		c.resetBadAck(now, seg, out)
		return true
	}
	if syn && !rst && c.state.Synchronized() {
		// RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth check): a SYN in a
		// synchronized state gets a challenge ACK "irrespective of the
		// sequence number", and, as in Linux, of its timestamp: the
		// half-open discovery of RFC 9293 §3.5.1 (figures 10 and 11)
		// needs this answer to reach a peer that rebooted and lost its
		// timestamp clock, or reconnects without timestamps.
		c.answerInvalid(now, seg, out, answerChallenge, DropSYNChallenged)
		return true
	}
	if c.tsOK && !rst {
		if !seg.Options.HasTimestamps {
			// RFC 7323 §3.2: once negotiated, a non-RST segment
			// without TSopt is silently dropped. Only SYNs (above)
			// are answered; data, ACKs and FINs get nothing.
			c.drop(seg, DropMissingTimestamp)
			return true
		}
		// PAWS, RFC 7323 §5.3 R1: a segment whose TSval is older than
		// TS.Recent is an old duplicate; acknowledge and drop it.
		if int32(seg.Options.TSVal-c.tsRecent) < 0 && now-c.tsRecentAt <= tsRecentValidity {
			c.env.Stats.PAWSRejects++
			c.noteDuplicateSeg(seg) // RFC 2883 §4: a resent copy, as Linux reports it
			c.answerInvalid(now, seg, out, answerPAWS, DropPAWSReject)
			return true
		}
	}
	// Is the segment acceptable (the four cases of §3.10.7.4)?
	if !c.simultaneousSynAck(seg) && !c.acceptable(seg, c.rcvWnd()) {
		if rst {
			c.drop(seg, DropRSTOutOfWindow)
			return true
		}
		if c.state == TimeWait && seg.has(flagFIN) {
			// A retransmitted FIN: our ACK was lost. Restart 2MSL.
			c.closeAt = now + 2*c.env.Config.MSL
		}
		c.noteDuplicateSeg(seg) // RFC 2883 §4: report it in a D-SACK
		c.answerInvalid(now, seg, out, answerSeq, DropOutOfWindow)
		return true
	}
	c.heardFromPeer(now)
	return false
}

// rcvWnd is RCV.WND: the window we advertised.
func (c *Conn) rcvWnd() seqnum.Size {
	if c.rcvAdv.LessThanEq(c.rcvNxt) {
		return 0
	}
	return c.rcvNxt.Size(c.rcvAdv)
}

// acceptable is the segment acceptability test of RFC 9293 §3.10.7.4.
// A zero-window segment starting at RCV.NXT is let through so that its
// ACK and RST are processed; trim then drops its text.
func (c *Conn) acceptable(seg *Segment, wnd seqnum.Size) bool {
	n := seg.Len()
	switch {
	case n == 0 && wnd == 0:
		return seg.Seq == c.rcvNxt
	case n == 0:
		return seg.Seq.InWindow(c.rcvNxt, wnd)
	case wnd == 0:
		return seg.Seq == c.rcvNxt
	default:
		last := seg.Seq.Add(n - 1)
		return seg.Seq.InWindow(c.rcvNxt, wnd) || last.InWindow(c.rcvNxt, wnd)
	}
}

// checkReset is the second step: an acceptable RST (RFC 5961 §3.2).
func (c *Conn) checkReset(now time.Duration, seg *Segment, out *Output) bool {
	if !seg.has(flagRST) {
		return false
	}
	switch {
	case c.state == TimeWait:
		// RFC 1337: TIME-WAIT assassination is prevented by
		// ignoring RSTs in TIME-WAIT.
		c.drop(seg, DropRSTInTimeWait)
	case seg.Seq == c.rcvNxt:
		c.resetReceived(now)
	default:
		c.answerInvalid(now, seg, out, answerChallenge, DropRSTChallenged)
	}
	return true
}

// resetReceived acts on an acceptable RST (RFC 9293 §3.10.7.4 second check).
func (c *Conn) resetReceived(now time.Duration) {
	switch c.state {
	case SynReceived:
		c.env.Stats.AttemptFails++
		if c.tfo.isEarly() {
			// A Fast Open child the user may already hold: it was
			// reset, not refused or forgotten.
			c.closeWith(now, ErrConnectionReset)
			return
		}
		if c.passive {
			// Back to LISTEN: the listener just forgets the child.
			c.closeWith(now, nil)
			return
		}
		c.closeWith(now, ErrConnectionRefused)
	case Established, CloseWait:
		c.env.Stats.EstabResets++
		c.closeWith(now, ErrConnectionReset)
	case FinWait1, FinWait2:
		c.closeWith(now, ErrConnectionReset)
	default:
		c.closeWith(now, nil)
	}
}

// checkSyn is the fourth step: a SYN in the window (RFC 5961 §4.2;
// RFC 9293 §3.10.7.4). A synchronized state answered it in checkSequence.
func (c *Conn) checkSyn(now time.Duration, seg *Segment, out *Output) bool {
	if !seg.has(flagSYN) || c.simultaneousSynAck(seg) {
		return false
	}
	if c.state == SynReceived && c.passive && !c.tfo.isEarly() {
		// Return to LISTEN: the listener forgets this child. A
		// Fast Open child may be the user's already: it gets the
		// challenge ACK below, as Linux keeps such a child.
		c.env.Stats.AttemptFails++
		c.drop(seg, DropSYNChallenged)
		c.closeWith(now, nil)
		return true
	}
	c.answerInvalid(now, seg, out, answerChallenge, DropSYNChallenged)
	return true
}

// checkAck is the fifth step: a segment without ACK is dropped; in
// SYN-RECEIVED the ACK completes the handshake (handshake.go); then the
// ACK's acceptability (RFC 5961 §5.2), its processing (ack.go) and what
// it means for a FIN we sent (close.go).
func (c *Conn) checkAck(now time.Duration, seg *Segment, out *Output) bool {
	if !seg.has(flagACK) {
		c.drop(seg, DropAckNotSet)
		return true
	}
	// SYN-RECEIVED, or FIN-WAIT-1 entered from it by a CLOSE before our
	// SYN was acknowledged: this ACK completes the handshake.
	if c.state == SynReceived || c.state == FinWait1 && c.sndUna == c.iss {
		if c.synReceivedAck(now, seg, out) {
			return true
		}
	}
	// RFC 5961 §5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else
	// discard and send an ACK.
	if seg.Ack.GreaterThan(c.sndMax) || seg.Ack.LessThan(c.sndUna.Sub(seqnum.Size(c.maxSndWnd))) {
		c.answerInvalid(now, seg, out, answerChallenge, DropAckUnacceptable)
		return true
	}
	c.processAck(now, seg)
	return c.ackedOurFin(now)
}
