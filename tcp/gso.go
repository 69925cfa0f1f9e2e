package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// Segmentation offload: when the link cuts large TCP segments into
// MSS-sized ones (Linux's TSO/GSO), the core builds one segment for a run
// of whole MSS-sized segments and marks it with OutSegment.SegSize. The
// wire still sees segments of at most the MSS (RFC 9293 §3.7.1), each
// with the same header, PSH and FIN only on the last; the core simply
// does its per-segment work once per run.

// maxLargePayload keeps a large segment's IP packet within 65,535 bytes
// for IPv6 and IPv4 alike: 40 bytes of IPv6 header and up to 60 of TCP
// header (the IPv6 payload length and the IPv4 total length are 16 bits).
const maxLargePayload = 65535 - 40 - 60

// largeSegment is the payload sendData puts in its next segment: one MSS
// without offload; with it, as much as the data, the windows and
// Config.MaxSegment allow, in whole MSS-sized pieces unless it ends the
// data. A retransmission (SND.NXT below SND.MAX, after a timeout) stays
// one MSS, so loss inside a large segment is repaired piece by piece.
func (c *Conn) largeSegment(mss, unsent, usable int) int {
	n := min(unsent, usable)
	limit := min(c.env.Config.MaxSegment, maxLargePayload)
	if limit <= mss || c.sndNxt.LessThan(c.sndMax) {
		return min(n, mss)
	}
	limit -= limit % mss
	n = min(n, limit)
	if n > mss && n < unsent {
		n -= n % mss
	}
	return n
}

// emitLarge is emit for a segment of up to largeSegment's size: beyond
// one MSS it is marked for the link to cut into mss-byte pieces, and
// pushed. RFC 9293 §3.9.1.2 leaves PSH to the sender; Linux's TSO packets
// carry it on their last piece whether or not the write ends there
// (packetdrill's slow_start scripts), and a receiver that waits for PSH
// gets the data one large segment at a time.
func (c *Conn) emitLarge(now time.Duration, out *Output, seq seqnum.Value, n int, fin bool, mss int) int {
	n = c.emit(now, out, seq, n, fin)
	if n > mss {
		s := &out.Segs[len(out.Segs)-1]
		s.SegSize = uint16(mss)
		s.Seg.Flags |= flagPSH
	}
	return n
}
