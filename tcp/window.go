package tcp

import "github.com/threeway-tcp/threeway/seqnum"

// The receive window's right edge, RCV.ADV, is what the acceptability
// test, the RST check and trimming use (RFC 9293 §3.10.7.4). It must be
// the edge the peer was told, not the one the buffer could hold: a
// larger one would be a larger target for blind RSTs and data (RFC 5961
// §1) than the peer itself may use.

// maxWindowField is the largest window a header can carry (RFC 9293 §3.1).
const maxWindowField = 65535

// advertisable is how far past RCV.NXT the window may reach: the free
// buffer, cut to what the 16-bit field can say at our scale (RFC 7323
// §2.3; without scaling, 65,535) and rounded down to the scale's
// granularity, so that RCV.NXT + (field << Rcv.Wind.Shift) is exactly the
// new edge. An edge advertised before and not yet reached stays in force
// however it rounds now (RFC 7323 §2.4: the window is never shrunk).
func (c *Conn) advertisable() seqnum.Size {
	w := min(c.rcv.free(), maxWindowField<<c.rcvShift)
	return seqnum.Size(w>>c.rcvShift) << c.rcvShift
}
