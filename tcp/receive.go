package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// The sixth to eighth steps of RFC 9293 §3.10.7.4: the segment's text,
// cut to the receive window, then its FIN.

// receiveText is the sixth to eighth steps. Sixth, URG: urgent data stays
// in the stream, inline (RFC 6093 advises against the mechanism), so the
// pointer changes nothing. Then
// text and the FIN (acceptText). RCV.WND is read again: reaching
// ESTABLISHED in checkAck may have moved RCV.NXT over text queued from
// the SYN, and trimming to the older, larger window would let the
// segment overrun the receive buffer.
func (c *Conn) receiveText(now time.Duration, seg *Segment, out *Output) {
	seq, payload, fin := c.trim(seg, c.rcvWnd())
	c.acceptText(now, seg, seq, payload, fin, out)
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
