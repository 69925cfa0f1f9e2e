package tcp

import "time"

// Closing (RFC 9293 §3.10.4, §3.10.5, §3.10.7.4): Close, CloseWrite
// (a half-close), Abort, the FIN received, the ACK of ours, and TIME-WAIT
// with its 2MSL timer and the decision to reopen.

// CloseWrite closes the send side: a FIN follows the queued data
// (RFC 9293 §3.10.4).
func (c *Conn) CloseWrite(now time.Duration) {
	if c.finQueued {
		return
	}
	switch c.state {
	case SynSent:
		if c.snd.n == 0 {
			// Nothing was synchronized: the connection just goes away.
			c.closeWith(now, nil)
			return
		}
		// Data written before the handshake (a non-blocking connect, or
		// Fast Open's) was accepted for sending once ESTABLISHED
		// (RFC 9293 §3.10.2): the FIN follows it then, rather than the
		// data being lost.
	case Closed, Listen:
		return
	}
	c.finQueued = true
	c.enterFinState()
}

// enterFinState moves to the state a queued FIN leads to
// (RFC 9293 §3.10.4): ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK,
// and SYN-RECEIVED -> FIN-WAIT-1 when nothing was written; otherwise the
// FIN waits for ESTABLISHED behind the data.
func (c *Conn) enterFinState() {
	switch c.state {
	case SynReceived:
		if c.snd.n == 0 {
			c.setState(FinWait1)
		}
	case Established:
		c.setState(FinWait1)
	case CloseWait:
		c.setState(LastAck)
	}
}

// Close closes both directions (RFC 9293 §3.10.4). Unread data or data
// arriving later makes it an abort, as RFC 2525 §2.17 recommends, so the
// peer learns its data was not consumed.
func (c *Conn) Close(now time.Duration, out *Output) {
	c.userClosed = true
	if c.rcv.n > 0 {
		c.Abort(now, out)
		return
	}
	c.CloseWrite(now)
}

// Abort sends a RST if the peer is synchronized and closes at once
// (RFC 9293 §3.10.5, SO_LINGER 0).
func (c *Conn) Abort(now time.Duration, out *Output) {
	switch c.state {
	case Closed:
		return
	case SynSent:
		c.env.Stats.AttemptFails++ // an opening that never completed
	case SynReceived, Established, FinWait1, FinWait2, CloseWait:
		if c.state == SynReceived {
			c.env.Stats.AttemptFails++
		}
		s := out.push(c.tuple)
		s.Seq = c.acceptableSeq()
		s.Flags = flagRST
	}
	c.closeWith(now, ErrConnectionAborted)
}

// closeWith moves to CLOSED, frees buffers and records err.
func (c *Conn) closeWith(now time.Duration, err error) {
	if c.state == Closed && c.events&EvClosed != 0 {
		return
	}
	if err != nil && c.err == nil {
		c.err = err
		c.events |= EvError
	}
	if c.listener != nil {
		c.listener.childGone(c)
	}
	c.ackNow = false
	c.setState(Closed)
	c.snd.release(&c.env.sendPool)
	if c.err != nil || c.rcv.n == 0 {
		c.rcv.release(&c.env.recvPool)
	}
	c.rtoAt, c.persistAt, c.closeAt = never, never, never
	c.stopLossTimers()
	if c.ka != nil {
		c.ka.on = false
	}
	c.events |= EvClosed | EvReadable | EvWritable
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

// finAcked reports whether our FIN has been acknowledged.
func (c *Conn) finAcked() bool {
	return c.finQueued && c.snd.n == 0 && c.sndUna == c.bufSeq.Add(1)
}

// ackedOurFin is the fifth step's part for the closing states
// (RFC 9293 §3.10.7.4): an ACK of our FIN moves FIN-WAIT-1 to FIN-WAIT-2,
// CLOSING to TIME-WAIT and LAST-ACK to CLOSED. It reports whether the
// connection closed.
func (c *Conn) ackedOurFin(now time.Duration) bool {
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
			return true
		}
	}
	return false
}

func (c *Conn) enterTimeWait(now time.Duration) {
	c.setState(TimeWait)
	c.rtoAt, c.persistAt = never, never
	c.stopLossTimers()
	c.closeAt = now + 2*c.env.Config.MSL
	c.snd.release(&c.env.sendPool)
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

// timeWaitReopen lets a new SYN in TIME-WAIT start a new incarnation of
// the connection (RFC 9293 §3.10.7.4 and RFC 6191): one whose sequence
// number (or timestamp) is beyond the old connection's, unless the
// caller said no listener would take it (InputMayReopen). What the old one
// still owes (the ACK of a FIN that came in the same batch) goes first,
// or the peer sits in LAST-ACK retransmitting it. The caller hands the
// SYN to its listener on EvReopen.
func (c *Conn) timeWaitReopen(now time.Duration, seg *Segment, out *Output) bool {
	if c.state != TimeWait || !seg.has(flagSYN) || seg.has(flagRST) || seg.has(flagACK) ||
		c.refuseReopen || !c.mayReopen(seg) {
		return false
	}
	if c.ackNow {
		c.sendAck(now, out)
	}
	c.env.Stats.TimeWaitReopen++
	c.events |= EvReopen
	c.closeWith(now, nil)
	return true
}
