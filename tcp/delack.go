package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// Delayed acknowledgments (RFC 9293 §3.8.6.3 SHLD-18, MUST-40, SHLD-19;
// RFC 5681 §4.2). In-order text is acknowledged
//   - at once during the first quickAckSegments segments of a
//     connection (so the peer's slow start is not slowed down, as Linux's
//     quick-ack mode does),
//   - at once when more than a full-sized segment (the largest seen so
//     far) is unacknowledged, so at least every second one (SHLD-19),
//   - otherwise within Config.DelayedAck (default 40 ms, Linux's minimum
//     delay; at most 500 ms, MUST-40), or sooner with data or a window
//     update going out.
// Out-of-order text, text that fills a hole, a FIN and a window update are
// acknowledged at once. Config.NoDelayedAck acknowledges every segment.

// DefaultDelayedAck is the delayed-ACK timeout unless Config says otherwise.
const DefaultDelayedAck = 40 * time.Millisecond

// maxDelayedAck is MUST-40's bound: "the delay MUST be less than 0.5 seconds".
const maxDelayedAck = 500*time.Millisecond - time.Millisecond

// quickAckSegments is how many text segments at the start of a connection
// are acknowledged one by one.
const quickAckSegments = 16

// delAck is a connection's delayed-ACK state.
type delAck struct {
	at     time.Duration // when the delayed ACK is due, or never
	armed  seqnum.Value  // lastAckSent when the timer was armed
	quick  int           // text segments acknowledged so far in quick-ack mode
	rcvMSS int           // largest text segment received (at least 536): a "full-sized" one
}

// pending reports whether a delayed ACK is due at d.at: no ACK has gone
// out since it was armed (any ACK moves lastAckSent past armed, since
// RCV.NXT moved when the text arrived).
func (c *Conn) delAckPending() bool { return c.delack.at != never && c.lastAckSent == c.delack.armed }

// ackText decides when to acknowledge n octets of text just accepted;
// inOrder is false if the text was out of order or filled a hole.
func (c *Conn) ackText(now time.Duration, inOrder bool, n int) {
	d := &c.delack
	// RFC 9293 §3.7.1: 536 is the MSS a peer may always send; below it a
	// segment is not "full-sized".
	d.rcvMSS = max(d.rcvMSS, min(n, int(c.advMSS)), min(536, int(c.advMSS)))
	cfg := &c.env.Config
	switch {
	case !inOrder:
		// RFC 5681 §4.2: an immediate (duplicate) ACK for out-of-order
		// text and for text filling all or part of a gap.
		c.ackNow = true
	case cfg.NoDelayedAck, d.quick < quickAckSegments:
		d.quick++
		c.ackNow = true
	case int(c.lastAckSent.Size(c.rcvNxt)) > d.rcvMSS:
		// SHLD-19 asks for an ACK at least every second full-sized
		// segment; like Linux, ACK once more than one full segment's
		// worth is unacknowledged, so a full segment and a short tail
		// (the end of a write) are not held back. The sender's tail
		// loss probe allows for a delayed ACK only when a single
		// segment is in flight (RFC 8985 §7.2).
		c.ackNow = true
	case !c.delAckPending():
		d.at, d.armed = now+cfg.DelayedAck, c.lastAckSent
	}
}

// delAckTimer sends the delayed ACK if it is due and still owed.
func (c *Conn) delAckTimer(now time.Duration) {
	if now < c.delack.at {
		return
	}
	if c.delAckPending() && c.lastAckSent != c.rcvNxt {
		c.ackNow = true
	}
	c.delack.at = never
}

// delAckDeadline is the delayed ACK's deadline, or never.
func (c *Conn) delAckDeadline() time.Duration {
	if c.delAckPending() {
		return c.delack.at
	}
	return never
}
