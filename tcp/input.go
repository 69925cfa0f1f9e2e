package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// tsRecentValidity is how long TS.Recent stays valid on an idle
// connection (RFC 7323 §5.5: 24 days).
const tsRecentValidity = 24 * 24 * time.Hour

// Input processes one segment that arrived for this connection
// (RFC 9293 §3.10.7). Replies are appended to out; data, acknowledgments
// and FINs the segment calls for go out on the next Poll.
func (c *Conn) Input(now time.Duration, seg *Segment, out *Output) {
	switch c.state {
	case Closed, Listen:
		c.drop(seg, DropClosed)
	case SynSent:
		c.inputSynSent(now, seg, out)
	default:
		c.inputOther(now, seg, out)
	}
}

func (c *Conn) drop(seg *Segment, r DropReason) {
	c.env.Stats.Drops[r]++
	if o := c.env.Observer; o != nil {
		o.Dropped(c.tuple, seg, r)
	}
}

// inputSynSent is RFC 9293 §3.10.7.3.
func (c *Conn) inputSynSent(now time.Duration, seg *Segment, out *Output) {
	ackOK := false
	if seg.has(flagACK) {
		// First: an ACK for something we never sent gets a RST
		// <SEQ=SEG.ACK><CTL=RST> unless it is itself a RST.
		if seg.Ack.LessThanEq(c.iss) || seg.Ack.GreaterThan(c.sndMax) {
			if !seg.has(flagRST) {
				r := out.push(c.tuple)
				r.Seq, r.Flags = seg.Ack, flagRST
			}
			c.drop(seg, DropBadAckInSynSent)
			return
		}
		ackOK = true
	}
	if seg.has(flagRST) {
		// Second: a RST counts only with an acceptable ACK
		// (RFC 9293 §3.10.7.3; RFC 5961 §3.2 for SYN-SENT).
		if !ackOK {
			c.drop(seg, DropRSTUnacceptable)
			return
		}
		c.env.Stats.AttemptFails++
		c.closeWith(now, ErrConnectionRefused)
		return
	}
	if !seg.has(flagSYN) {
		c.drop(seg, DropNoSynOrRST)
		return
	}
	// Fourth: the SYN synchronizes the receive side.
	c.irs = seg.Seq
	c.rcvNxt = seg.Seq.Add(1)
	c.negotiate(seg, now)
	// RFC 7323 §2.2: the window of a SYN is never scaled.
	c.sndWnd = uint32(seg.Window)
	c.maxSndWnd = c.sndWnd
	c.sndWl1, c.sndWl2 = seg.Seq, seg.Ack
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size(min(c.rcv.free(), 65535)))
	if ackOK {
		c.fastOpenSynAck(now, seg)
		c.sndUna = seg.Ack
		c.synAcked(now)
		c.setState(Established)
		if c.finQueued {
			c.enterFinState()
		}
		c.events |= EvEstablished | EvWritable
		c.ackNow = true
		// Sixth step onwards for any data or FIN on the SYN-ACK, cut to
		// the window our SYN offered (RFC 9293 §3.10.7.4: trim what lies
		// outside the window) so that it cannot overrun the buffer.
		seq, payload, fin := c.trim(seg, c.rcvWnd())
		c.acceptText(now, seg, seq, payload, fin, out)
		return
	}
	// Simultaneous open (RFC 9293 §3.5, figure 7; MUST-10): answer with
	// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and wait in SYN-RECEIVED.
	c.passive = false
	c.setState(SynReceived)
	c.queueSynText(seg)
	c.sndNxt = c.iss
	c.rtoAt = never
}

// queueSynText keeps data and FIN that came on a SYN for processing once
// ESTABLISHED is reached (RFC 9293 §3.10.7.2 and §3.10.7.3).
func (c *Conn) queueSynText(seg *Segment) {
	start := seg.Seq.Add(1)
	payload := seg.Payload
	if n := min(len(payload), c.rcv.free(), 65535); n < len(payload) {
		payload = payload[:n]
	}
	c.rcv.insert(c.rcvNxt, start, payload, &c.env.recvPool)
	if seg.has(flagFIN) && len(payload) == len(seg.Payload) {
		c.rcvFinAhead = true
		c.rcvFinSeq = start.Add(seqnum.Size(len(payload)))
	}
}

// synAcked stops the handshake timer and takes the handshake's RTT sample
// unless the SYN was retransmitted (Karn's rule, RFC 6298 §3).
func (c *Conn) synAcked(now time.Duration) {
	c.retries = 0
	c.rtoAt = never
	if c.timing && !c.synRetrans {
		c.rttSample(now - c.timedAt)
	} else if c.synRetrans && c.srtt == 0 {
		// RFC 6298 §5.7: after a retransmitted SYN with no sample,
		// start data transfer with RTO = 3 s.
		c.rto = max(3*time.Second, c.env.Config.MinRTO)
	}
	c.timing = false
	if c.sndNxt.LessThan(c.sndUna) {
		c.sndNxt = c.sndUna
	}
	if c.sndMax.GreaterThan(c.sndUna) {
		// RFC 6298 §5.3: data sent with or after the SYN (a Fast Open
		// server's in SYN-RECEIVED, RFC 7413 §4.2.2) is still
		// outstanding: its timer runs on.
		c.rtoAt = now + c.rto
	}
}

// inputOther handles SYN-RECEIVED and the synchronized states
// (RFC 9293 §3.10.7.4).
func (c *Conn) inputOther(now time.Duration, seg *Segment, out *Output) {
	syn, rst := seg.has(flagSYN), seg.has(flagRST)

	if c.state == TimeWait && syn && !rst && !seg.has(flagACK) && !c.refuseReopen && c.mayReopen(seg) {
		// RFC 9293 §3.10.7.4 (and RFC 6191): a new SYN whose sequence
		// number (or timestamp) is beyond the old connection's may
		// start a new incarnation of the connection. What the old one
		// still owes (the ACK of a FIN that came in the same batch)
		// goes first, or the peer sits in LAST-ACK retransmitting it.
		if c.ackNow {
			c.sendAck(now, out)
		}
		c.env.Stats.TimeWaitReopen++
		c.events |= EvReopen
		c.closeWith(now, nil)
		return
	}
	if c.state == SynReceived && syn && !rst && !seg.has(flagACK) && seg.Seq == c.irs {
		// A retransmitted SYN: our SYN-ACK was lost, so send it again.
		c.sndNxt = c.iss
		return
	}
	// RFC 9293 §3.5 figure 7 line 6 (MUST-10): in a simultaneous open the
	// peer's SYN-ACK repeats its SYN, which lies just left of the window.
	// Trimming the SYN off (§3.10.7.4: "trimming off any portions that
	// lie outside the window (including SYN and FIN)") leaves an ACK at
	// RCV.NXT that completes the handshake, as the figure shows. Checked
	// strictly it would be unacceptable and cost both ends one more
	// exchange (the problem RFC 9293 Appendix A.2 describes).
	simSynAck := c.state == SynReceived && !c.passive && syn && !rst && seg.has(flagACK) && seg.Seq == c.irs
	if c.state == SynReceived && !rst && seg.has(flagACK) && c.badSynReceivedAck(seg) {
		c.resetBadAck(now, seg, out)
		return
	}
	if syn && !rst && c.state.Synchronized() {
		// RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth check): a SYN in a
		// synchronized state gets a challenge ACK "irrespective of the
		// sequence number", and, as in Linux, of its timestamp: the
		// half-open discovery of RFC 9293 §3.5.1 (figures 10 and 11)
		// needs this answer to reach a peer that rebooted and lost its
		// timestamp clock, or reconnects without timestamps.
		c.answerInvalid(now, seg, out, answerChallenge, DropSYNChallenged)
		return
	}
	if c.tsOK && !rst {
		if !seg.Options.HasTimestamps {
			// RFC 7323 §3.2: once negotiated, a non-RST segment
			// without TSopt is silently dropped. Only SYNs (above)
			// are answered; data, ACKs and FINs get nothing.
			c.drop(seg, DropMissingTimestamp)
			return
		}
		// PAWS, RFC 7323 §5.3 R1: a segment whose TSval is older than
		// TS.Recent is an old duplicate; acknowledge and drop it.
		if int32(seg.Options.TSVal-c.tsRecent) < 0 && now-c.tsRecentAt <= tsRecentValidity {
			c.env.Stats.PAWSRejects++
			c.noteDuplicateSeg(seg) // RFC 2883 §4: a resent copy, as Linux reports it
			c.answerInvalid(now, seg, out, answerPAWS, DropPAWSReject)
			return
		}
	}

	// First: is the segment acceptable (the four cases of §3.10.7.4)?
	wnd := c.rcvWnd()
	if !simSynAck && !c.acceptable(seg, wnd) {
		if rst {
			c.drop(seg, DropRSTOutOfWindow)
			return
		}
		if c.state == TimeWait && seg.has(flagFIN) {
			// A retransmitted FIN: our ACK was lost. Restart 2MSL.
			c.closeAt = now + 2*c.env.Config.MSL
		}
		c.noteDuplicateSeg(seg) // RFC 2883 §4: report it in a D-SACK
		c.answerInvalid(now, seg, out, answerSeq, DropOutOfWindow)
		return
	}
	c.heardFromPeer(now)

	// Second: RST (RFC 5961 §3.2).
	if rst {
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
		return
	}

	// Fourth: SYN (RFC 5961 §4.2; RFC 9293 §3.10.7.4).
	if syn && !simSynAck {
		if c.state == SynReceived && c.passive && !c.tfo.isEarly() {
			// Return to LISTEN: the listener forgets this child. A
			// Fast Open child may be the user's already: it gets the
			// challenge ACK below, as Linux keeps such a child.
			c.env.Stats.AttemptFails++
			c.drop(seg, DropSYNChallenged)
			c.closeWith(now, nil)
			return
		}
		c.answerInvalid(now, seg, out, answerChallenge, DropSYNChallenged)
		return
	}

	// Fifth: ACK.
	if !seg.has(flagACK) {
		c.drop(seg, DropAckNotSet)
		return
	}
	// SYN-RECEIVED, or FIN-WAIT-1 entered from it by a CLOSE before our
	// SYN was acknowledged: this ACK completes the handshake.
	if c.state == SynReceived || c.state == FinWait1 && c.sndUna == c.iss {
		if c.badSynReceivedAck(seg) {
			c.resetBadAck(now, seg, out)
			return
		}
		if c.listener != nil && !c.tfo.isEarly() && !c.listener.roomToAccept() {
			// Like Linux: ignore the final ACK while the accept queue
			// is full; the SYN-ACK timer retries later.
			c.env.Stats.ListenOverflows++
			c.drop(seg, DropAcceptQueueFull)
			return
		}
		// Our SYN is acknowledged; data a Fast Open server sent in
		// SYN-RECEIVED (RFC 7413 §4.2.2) is taken by processAck below.
		c.sndUna = c.iss.Add(1)
		c.synAcked(now)
		c.sndWnd = c.segWindow(seg)
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.sndWl1, c.sndWl2 = seg.Seq, seg.Ack
		if c.state == SynReceived {
			c.setState(Established)
			if c.finQueued {
				c.enterFinState()
			}
		}
		c.events |= EvEstablished | EvWritable
		if c.listener != nil {
			c.listener.childEstablished(c)
		}
		// Data and FIN that came on the SYN are processed now.
		if grow := c.rcv.advance(c.rcvNxt); grow > 0 {
			c.rcvNxt = c.rcvNxt.Add(seqnum.Size(grow))
			c.events |= EvReadable
			c.ackNow = true
		}
		if c.rcvFinAhead && c.rcvNxt == c.rcvFinSeq {
			c.finReceived(now)
		}
	}
	// RFC 5961 §5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, else
	// discard and send an ACK.
	if seg.Ack.GreaterThan(c.sndMax) || seg.Ack.LessThan(c.sndUna.Sub(seqnum.Size(c.maxSndWnd))) {
		c.answerInvalid(now, seg, out, answerChallenge, DropAckUnacceptable)
		return
	}
	c.processAck(now, seg)
	switch c.state {
	case FinWait1:
		if c.finAcked() {
			c.setState(FinWait2)
			if c.userClosed {
				c.closeAt = now + finWait2Timeout
			}
		}
	case Closing:
		if c.finAcked() {
			c.enterTimeWait(now)
		}
	case LastAck:
		if c.finAcked() {
			c.closeWith(now, nil)
			return
		}
	}

	// Sixth to eighth: urgent data is delivered inline, then text, then FIN.
	// RCV.WND is read again: reaching ESTABLISHED above may have moved
	// RCV.NXT over text queued from the SYN, and trimming to the older,
	// larger window would let the segment overrun the receive buffer.
	seq, payload, fin := c.trim(seg, c.rcvWnd())
	c.acceptText(now, seg, seq, payload, fin, out)
}

// finWait2Timeout bounds FIN-WAIT-2 for a connection the user closed
// fully, which nobody would otherwise reap (Linux tcp_fin_timeout).
const finWait2Timeout = 60 * time.Second

// mayReopen is RFC 6191 §2's test for a SYN arriving in TIME-WAIT: with
// timestamps on both, a newer timestamp, or an equal one with a higher
// sequence number; without, a higher sequence number (RFC 9293 §3.10.7.4).
func (c *Conn) mayReopen(seg *Segment) bool {
	if c.tsOK && seg.Options.HasTimestamps {
		d := int32(seg.Options.TSVal - c.tsRecent)
		return d > 0 || d == 0 && seg.Seq.GreaterThan(c.rcvNxt)
	}
	return seg.Seq.GreaterThan(c.rcvNxt)
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

// trim cuts an acceptable segment to the receive window (RFC 9293
// §3.10.7.4: "segments with higher beginning sequence numbers ... held",
// text before RCV.NXT already received).
func (c *Conn) trim(seg *Segment, wnd seqnum.Size) (seqnum.Value, []byte, bool) {
	seq, payload, fin := seg.Seq, seg.Payload, seg.has(flagFIN)
	if seg.has(flagSYN) {
		seq = seq.Add(1)
	}
	if seq.LessThan(c.rcvNxt) {
		d := int(seq.Size(c.rcvNxt))
		if d > len(payload) {
			fin = false // the FIN too was received before
			d = len(payload)
		}
		payload = payload[d:]
		seq = c.rcvNxt
	}
	right := c.rcvNxt.Add(wnd)
	if end := seq.Add(seqnum.Size(len(payload))); end.GreaterThan(right) {
		keep := 0
		if right.GreaterThan(seq) {
			keep = int(seq.Size(right))
		}
		payload = payload[:keep]
		fin = false
		// What lay beyond the window was not accepted: acknowledge, as
		// for an unacceptable segment, so that a zero-window probe
		// learns the window (RFC 9293 §3.10.7.4 first check; §3.8.6.1).
		c.ackNow = true
	} else if fin && end == right && wnd == 0 {
		fin = false
		c.ackNow = true
	}
	return seq, payload, fin
}

// acceptText is the seventh and eighth steps: queue the text, then the FIN.
func (c *Conn) acceptText(now time.Duration, seg *Segment, seq seqnum.Value, payload []byte, fin bool, out *Output) {
	if len(payload) > 0 {
		switch c.state {
		case Established, FinWait1, FinWait2:
			if c.userClosed {
				// Nobody will read it: reset, as RFC 2525 §2.17 advises.
				c.Abort(now, out)
				return
			}
			c.noteDuplicateText(seg, seq, payload)
			c.ecnReceived(seg)
			// RFC 5681 §4.2: out-of-order text, and text that fills
			// a gap, gets an ACK at once, one per segment, so the
			// sender sees each arrival (duplicate ACKs, SACK blocks).
			ooo := seq != c.rcvNxt || len(c.rcv.ooo) > 0
			if !c.rcv.insert(c.rcvNxt, seq, payload, &c.env.recvPool) {
				c.drop(seg, DropReassemblyFull)
			}
			if grow := c.rcv.advance(c.rcvNxt); grow > 0 {
				c.rcvNxt = c.rcvNxt.Add(seqnum.Size(grow))
				c.events |= EvReadable
			}
			// In-order text may be acknowledged later (delack.go);
			// out-of-order text and a pending D-SACK go at once.
			c.ackText(now, !ooo, len(payload))
			if ooo || c.lossState != nil && c.dsackPending {
				c.ackNow = true
				c.sendAck(now, out)
			}
		default:
			c.drop(seg, DropDataAfterFin)
		}
	}
	if fin {
		c.rcvFinAhead = true
		c.rcvFinSeq = seq.Add(seqnum.Size(len(payload)))
		c.ackNow = true
	}
	if c.rcvFinAhead && c.rcvNxt == c.rcvFinSeq {
		c.finReceived(now)
	}
}

// finReceived is the eighth step for an in-order FIN.
func (c *Conn) finReceived(now time.Duration) {
	if c.finRcvd {
		return
	}
	c.rcvFinAhead = false
	c.finRcvd = true
	c.rcvNxt = c.rcvNxt.Add(1)
	if c.rcvAdv.LessThan(c.rcvNxt) {
		// A FIN right after text that filled the window takes a
		// sequence number but no buffer space: keep RCV.NXT =< the
		// window's right edge (RFC 9293 §3.3.1).
		c.rcvAdv = c.rcvNxt
	}
	c.ackNow = true
	c.events |= EvReadable
	switch c.state {
	case SynReceived, Established:
		c.setState(CloseWait)
	case FinWait1:
		if c.finAcked() {
			c.enterTimeWait(now)
		} else {
			c.setState(Closing)
		}
	case FinWait2:
		c.enterTimeWait(now)
	case TimeWait:
		c.closeAt = now + 2*c.env.Config.MSL
	}
}

func (c *Conn) enterTimeWait(now time.Duration) {
	c.setState(TimeWait)
	c.rtoAt, c.persistAt = never, never
	c.stopLossTimers()
	c.closeAt = now + 2*c.env.Config.MSL
	c.snd.release(&c.env.sendPool)
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

// badSynReceivedAck reports whether seg, in SYN-RECEIVED (or FIN-WAIT-1
// before our SYN was acknowledged), acknowledges something we never sent
// or not our SYN: SEG.ACK =< ISS or SEG.ACK > SND.NXT.
func (c *Conn) badSynReceivedAck(seg *Segment) bool {
	return !seg.Ack.GreaterThan(c.sndUna) || seg.Ack.GreaterThan(c.sndMax)
}

// resetBadAck answers an unacceptable ACK in a non-synchronized state
// with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.5.2 group 2, §3.10.7.4), within
// the connection's budget for answers to invalid segments. The check comes
// before the sequence number's: §3.5.2 states the rule for any segment
// with an unacceptable ACK, and Linux's tcp_check_req orders it so. A
// SYN-RECEIVED child that a blind SYN
// made out of TIME-WAIT meets the old peer's ACKs this way and resets the
// peer's half of the old connection at its RCV.NXT, instead of trading
// out-of-window ACKs with it (RFC 9293 §3.5.1, half-open discovery).
func (c *Conn) resetBadAck(now time.Duration, seg *Segment, out *Output) {
	if !c.mayAnswer(now, seg, answerBadAck) {
		return
	}
	r := out.push(c.tuple)
	r.Seq, r.Flags = seg.Ack, flagRST
	c.drop(seg, DropBadAckInSynReceived)
}

// finAcked reports whether our FIN has been acknowledged.
func (c *Conn) finAcked() bool {
	return c.finQueued && c.snd.n == 0 && c.sndUna == c.bufSeq.Add(1)
}

// processAck is the ESTABLISHED part of the fifth step: advance SND.UNA,
// free acknowledged data, sample the RTT and update the send window.
func (c *Conn) processAck(now time.Duration, seg *Segment) {
	ack := seg.Ack
	if c.lossState == nil && (c.sndMax.GreaterThan(c.sndUna) || c.sackOK && seg.Options.NumSACK > 0) {
		// Something can be acknowledged or SACKed: recovery needs its
		// state. Without, this ACK acknowledges nothing new, is no
		// duplicate and carries no blocks: nothing below reads it.
		c.loss()
	}
	var ai ackInfo
	var rtt time.Duration
	// RFC 5681 §2: a duplicate acknowledgment. Judged before this ACK
	// updates the window, which it must leave unchanged.
	ai.dup = ack == c.sndUna && len(seg.Payload) == 0 && !seg.has(flagFIN) &&
		c.sndMax.GreaterThan(c.sndUna) && c.segWindow(seg) == c.sndWnd
	if ack.GreaterThan(c.sndUna) {
		ai.advanced = true
		if ack.GreaterThan(c.bufSeq) {
			d := min(int(c.bufSeq.Size(ack)), c.snd.n)
			c.snd.consume(d, &c.env.sendPool)
			c.bufSeq = c.bufSeq.Add(seqnum.Size(d))
			c.events |= EvWritable
		}
		c.ackedTo(now, seg, ack, &ai)
		c.sndUna = ack
		if c.sndNxt.LessThan(ack) {
			c.sndNxt = ack
		}
		c.retries = 0
		// The sample reaches recoveryOnAck (and the algorithm) below.
		rtt = c.ackRTT(now, seg)
		// RFC 6298 §5.2 and §5.3.
		if c.sndUna == c.sndMax {
			c.rtoAt = never
		} else {
			c.rtoAt = now + c.rto
		}
	}
	if c.sackOK && c.state.Synchronized() {
		c.sackReceived(now, seg, &ai)
	}
	if ai.advanced || ai.dup || ai.sacked || ai.dsack {
		c.recoveryOnAck(now, &ai, rtt)
		if ai.advanced {
			c.scheduleTLP(now)
		}
	}
	// After recovery: a loss it just detected is this window's reduction.
	if ai.advanced || ai.dup || ai.sacked {
		c.ecnAck(now, seg)
	}
	// Window update (RFC 9293 §3.10.7.4): "If SND.UNA =< SEG.ACK =<
	// SND.NXT", and only from a segment newer than the one that last set
	// it. An older ACK, which RFC 5961 §5.2 lets through, must not.
	if ack.GreaterThanEq(c.sndUna) &&
		(c.sndWl1.LessThan(seg.Seq) || (c.sndWl1 == seg.Seq && c.sndWl2.LessThanEq(ack))) {
		c.sndWnd = c.segWindow(seg)
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.sndWl1, c.sndWl2 = seg.Seq, ack
		if c.sndWnd > 0 {
			c.persistAt = never
			c.persistBackoff = 0
		} else if ack == c.sndUna {
			// RFC 9293 §3.8.6.1 (MUST-36): a receiver may keep its
			// window closed indefinitely; its ACKs keep us alive.
			c.retries = 0
		}
	}
	// RFC 7323 §4.3: update TS.Recent from a segment that covers the
	// last ACK we sent.
	if c.tsOK && seg.Options.HasTimestamps && int32(seg.Options.TSVal-c.tsRecent) >= 0 &&
		seg.Seq.LessThanEq(c.lastAckSent) {
		c.tsRecent = seg.Options.TSVal
		c.tsRecentAt = now
	}
}

// segWindow is SEG.WND in bytes: the window field shifted by the peer's
// scale, except in a SYN, whose window is never scaled (RFC 7323 §2.2).
func (c *Conn) segWindow(seg *Segment) uint32 {
	if seg.has(flagSYN) {
		return uint32(seg.Window)
	}
	return uint32(seg.Window) << c.sndShift
}
