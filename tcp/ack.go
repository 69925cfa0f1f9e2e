package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// The ESTABLISHED part of RFC 9293 §3.10.7.4's fifth step: what an
// acceptable ACK acknowledges, and the send window it carries.

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
