package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// Poll runs the timers that are due at now and appends whatever the
// connection should send now to out: SYN or SYN-ACK, data, FIN,
// retransmissions and acknowledgments.
func (c *Conn) Poll(now time.Duration, out *Output) {
	c.runTimers(now)
	if c.keepAliveOn() && now >= c.ka.at && c.state != Closed {
		c.keepAliveDue(now, out)
	}
	switch c.state {
	case Closed, Listen:
		return
	case SynSent, SynReceived:
		if c.sndNxt == c.iss {
			if c.state == SynSent && c.synDeferred(now) {
				return
			}
			c.sendSyn(now, out)
			return
		}
		if c.tfo.isEarly() && c.sendData(now, out) {
			// A Fast Open server may send before the handshake ends
			// (RFC 7413 §4.2.2), as Linux does.
			return
		}
	case Established, CloseWait, FinWait1, Closing, LastAck:
		if c.sndNxt == c.iss {
			// FIN-WAIT-1 straight from SYN-RECEIVED (a CLOSE before the
			// handshake completed): the SYN-ACK goes again first.
			c.sendSyn(now, out)
		}
		high := c.sndMax
		sent := c.sendLost(now, out)
		if c.lossState != nil && c.tlp.due && c.sendTLP(now, out) {
			sent = true
		} else if c.sendData(now, out) {
			sent = true
		}
		if c.sndMax != high && !c.tlp.active { // sending allocated the loss state
			c.scheduleTLP(now) // RFC 8985 §7.2: re-armed as new data goes out
		}
		if sent {
			return
		}
	}
	if c.ackNow {
		c.sendAck(now, out)
	}
}

// windowField returns the window to advertise and moves RCV.ADV. The right
// edge never moves left (RFC 9293 §3.8.6, SHLD-14) and moves right only by
// at least min(buffer/2, MSS) (receiver SWS avoidance, MUST-39). RCV.ADV
// is the edge the field really tells the peer (window.go), so the window
// checked is never larger than the window advertised.
func (c *Conn) windowField() uint16 {
	right := c.rcvNxt.Add(c.advertisable())
	if right.GreaterThan(c.rcvAdv) {
		step := seqnum.Size(min(c.rcv.limit/2, int(c.advMSS)))
		if c.rcvAdv.Size(right) >= step || c.rcvAdv.LessThanEq(c.rcvNxt) && c.rcv.free() >= int(step) {
			c.rcvAdv = right
		}
	}
	w := c.rcvWnd() >> c.rcvShift
	return uint16(min(w, 65535))
}

// acceptableSeq is the sequence number for a segment without text:
// SND.NXT, unless a zero-window probe took it past the peer's window, in
// which case the window's right edge, so the peer's acceptability test
// (RFC 9293 §3.10.7.4) still lets the ACK or RST in (as Linux does).
//
// An edge less than one unit of the peer's window scale short of SND.NXT
// is the scaled window's rounding (RFC 7323 §2.3), not a shrunk window:
// the peer's RCV.NXT may already be at SND.NXT, and an ACK numbered at
// the edge would be below it, unacceptable, and dropped with its
// acknowledgment, so two peers each retransmitting what the other has
// would never hear each other's ACKs. SND.NXT it is, as in Linux's
// tcp_acceptable_seq.
func (c *Conn) acceptableSeq() seqnum.Value {
	edge := c.sndUna.Add(seqnum.Size(c.sndWnd))
	if c.state.Synchronized() && c.sndMax.GreaterThan(edge) && edge.Size(c.sndMax) >= seqnum.Size(1)<<c.sndShift {
		return edge
	}
	return c.sndMax
}

// sendAck sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
func (c *Conn) sendAck(now time.Duration, out *Output) {
	if c.state == SynSent || c.state == Closed {
		return
	}
	s := out.push(c.tuple)
	s.Seq = c.acceptableSeq()
	s.Ack = c.rcvNxt
	s.Flags = flagACK
	s.Window = c.windowField()
	c.dataOptions(&s.Options, now)
	c.sackReported(&s.Options)
	c.ecnMark(s, s.Seq, 0)
	c.lastAckSent = c.rcvNxt
	c.ackNow = false
}

// emit appends a segment carrying n bytes of the send buffer from seq,
// and a FIN if fin. It returns the bytes actually carried (the ring may
// cut them short).
func (c *Conn) emit(now time.Duration, out *Output, seq seqnum.Value, n int, fin bool) int {
	s := out.push(c.tuple)
	c.dataOptions(&s.Options, now)
	c.sackReported(&s.Options)
	off := int(c.bufSeq.Size(seq))
	s.Payload = c.snd.peek(off, n)
	if len(s.Payload) < n {
		n = len(s.Payload)
		fin = false
	}
	s.Seq = seq
	s.Ack = c.rcvNxt
	s.Flags = flagACK
	if n > 0 && off+n == c.snd.n {
		s.Flags |= flagPSH
	}
	if fin {
		s.Flags |= flagFIN
	}
	s.Window = c.windowField()
	c.ecnMark(s, seq, n)
	c.lastAckSent = c.rcvNxt
	c.ackNow = false
	c.recordSent(now, seq, n, fin)
	if c.rtoAt == never {
		c.rtoAt = now + c.rto
		if c.sndWnd == 0 {
			// A zero-window probe: its timer keeps the persist
			// backoff, so probes come ever further apart
			// (RFC 9293 §3.8.6.1, SHLD-30).
			c.rtoAt = now + c.persistInterval()
		}
	}
	return n
}

// maxPayload is the payload that fits one segment with these options
// (RFC 9293 §3.7.1: the MSS counts no TCP options).
func (c *Conn) maxPayload(now time.Duration) int {
	var o wire.Options
	c.dataOptions(&o, now)
	return max(int(c.sndMSS)-o.Len(), 1)
}

// sendData sends new data and the FIN as the windows allow, and reports
// whether it sent anything.
func (c *Conn) sendData(now time.Duration, out *Output) bool {
	sent := false
	mss := c.maxPayload(now)
	for {
		off := int(c.bufSeq.Size(c.sndNxt))
		unsent := c.snd.n - off
		finPending := c.finQueued && unsent >= 0
		if unsent <= 0 && !finPending {
			break
		}
		unsent = max(unsent, 0)
		inflight := uint32(c.sndUna.Size(c.sndNxt))
		n := c.largeSegment(mss, unsent, c.usableWindow(inflight))
		// probe is the persist timer's or the retransmission timer's
		// override: send what fits, or one octet past a zero window.
		probe := c.forceProbe
		c.forceProbe = false
		if probe && n == 0 && unsent > 0 {
			// Zero-window probe (RFC 9293 §3.8.6.1): one byte past the window.
			n = 1
		}
		if !probe && n < unsent && n < mss && n < int(c.maxSndWnd/2) {
			// Sender SWS avoidance (RFC 9293 §3.8.6.2.1, MUST-38). The
			// override timeout ends the wait (its case 4); without this,
			// the check itself cancelled every zero-window probe.
			n = 0
		}
		if !probe && n > 0 && n == unsent && n < mss && !c.noDelay && inflight > 0 && !c.finQueued {
			// Nagle (RFC 9293 §3.7.4, SHLD-7): one small segment in flight.
			n = 0
		}
		// The FIN takes a sequence number too: send it only if the peer's
		// window has room for it (as Linux's tcp_snd_wnd_test does), or
		// as a probe. A FIN past the window is dropped, and so is every
		// segment after it, ACKs included, as their SEQ lies beyond the
		// window, until a retransmission brings the FIN.
		fin := finPending && n == unsent && (probe || inflight+uint32(n) < c.sndWnd)
		if n == 0 && !fin {
			break
		}
		seq := c.sndNxt
		if !c.timing && seq == c.sndMax && n > 0 {
			c.timing, c.timedSeq, c.timedAt = true, seq.Add(seqnum.Size(n)), now
		}
		n = c.emitLarge(now, out, seq, n, fin, mss)
		c.sndNxt = seq.Add(seqnum.Size(n))
		if fin && n == unsent {
			c.sndNxt = c.sndNxt.Add(1)
		}
		c.sndMax = seqnum.Max(c.sndMax, c.sndNxt)
		sent = true
		if fin && n == unsent {
			break
		}
	}
	if !sent && c.sndUna == c.sndMax && c.persistAt == never {
		if off := int(c.bufSeq.Size(c.sndNxt)); c.snd.n > off || c.finQueued {
			// Data or the FIN waits on a closed or too small window:
			// probe later.
			c.persistAt = now + c.persistInterval()
		}
	}
	return sent
}

func (c *Conn) persistInterval() time.Duration {
	d := max(c.rto, 200*time.Millisecond) << min(c.persistBackoff, 10)
	return min(d, c.env.Config.MaxRTO)
}
