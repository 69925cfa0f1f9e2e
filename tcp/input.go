package tcp

import (
	"time"
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
		c.inputSynchronized(now, seg, out)
	}
}

func (c *Conn) drop(seg *Segment, r DropReason) {
	c.env.Stats.Drops[r]++
	if o := c.env.Observer; o != nil {
		o.Dropped(c.tuple, seg, r)
	}
}

// inputSynchronized handles SYN-RECEIVED and the synchronized states
// (RFC 9293 §3.10.7.4), one step after another in the RFC's order. Each
// step reports whether it consumed the segment (dropped or answered it).
func (c *Conn) inputSynchronized(now time.Duration, seg *Segment, out *Output) {
	switch {
	case c.timeWaitReopen(now, seg, out): // a new incarnation (close.go)
	case c.synRetransmitted(seg): // our SYN-ACK was lost (handshake.go)
	case c.checkSequence(now, seg, out): // first
	case c.checkReset(now, seg, out): // second
	// Third, security: this stack uses no IP security compartments, and
	// precedence is ignored (RFC 2873), so the step is skipped.
	case c.checkSyn(now, seg, out): // fourth
	case c.checkAck(now, seg, out): // fifth
	default:
		c.receiveText(now, seg, out) // sixth to eighth: URG, text, FIN
	}
}
