package tcp

import "github.com/threeway-tcp/threeway/seqnum"

// dsackBlock tells whether the first SACK block of seg is a D-SACK
// (RFC 2883 §4): it lies below the cumulative ACK, or inside the second
// block. Only a block within the data we sent is believed.
func (c *Conn) dsackBlock(seg *Segment) (seqRange, bool) {
	o := &seg.Options
	if o.NumSACK == 0 {
		return seqRange{}, false
	}
	b := o.SACK[0]
	d := seqRange{seqnum.Value(b.Start), seqnum.Value(b.End)}
	if !d.start.LessThan(d.end) || d.end.GreaterThan(c.sndMax) {
		return seqRange{}, false
	}
	// Nothing below the oldest data a DSACK could name: the window the
	// peer allowed bounds it, as for ACKs (RFC 5961 §5.2).
	if d.start.LessThan(c.sndUna.Sub(seqnum.Size(c.maxSndWnd))) {
		return seqRange{}, false
	}
	if d.end.LessThanEq(seg.Ack) {
		return d, true
	}
	if o.NumSACK > 1 {
		s := o.SACK[1]
		if seqnum.Value(s.Start).LessThanEq(d.start) && d.end.LessThanEq(seqnum.Value(s.End)) {
			return d, true
		}
	}
	return seqRange{}, false
}

// noteDuplicate records text that arrived a second time, [start, end), to
// be reported once as the first block of the next ACK (RFC 2883 §4, the
// D-SACK). Only with SACK agreed.
func (c *Conn) noteDuplicate(start, end seqnum.Value) {
	if !c.sackOK || !start.LessThan(end) {
		return
	}
	l := c.loss()
	l.dsackOut, l.dsackPending = seqRange{start, end}, true
}

// noteDuplicateSeg records the part of an unacceptable segment that lies
// below RCV.NXT: all of it, for a retransmission of data we already had.
func (c *Conn) noteDuplicateSeg(seg *Segment) {
	if len(seg.Payload) == 0 {
		return
	}
	start := seg.Seq
	if seg.has(flagSYN) {
		start = start.Add(1)
	}
	end := start.Add(seqnum.Size(len(seg.Payload)))
	if end.LessThanEq(c.rcvNxt) {
		c.noteDuplicate(start, end)
	}
}

// duplicateOOO reports the part of [seq, end) already held out of order
// (RFC 2883 §4.1.2: a duplicate of data above a hole).
func (b *recvBuffer) duplicateOOO(seq, end seqnum.Value) (seqRange, bool) {
	for _, r := range b.ooo {
		lo, hi := seqnum.Max(seq, r.start), seqnum.Min(end, r.end)
		if lo.LessThan(hi) {
			return seqRange{lo, hi}, true
		}
	}
	return seqRange{}, false
}

// noteDuplicateText records, for the D-SACK, the part of an accepted
// segment that was received before: what trim cut off below RCV.NXT, or
// what overlaps text already held out of order.
func (c *Conn) noteDuplicateText(seg *Segment, seq seqnum.Value, payload []byte) {
	if !c.sackOK {
		return
	}
	start := seg.Seq
	if seg.has(flagSYN) {
		start = start.Add(1)
	}
	if start.LessThan(seq) && len(seg.Payload) > 0 {
		c.noteDuplicate(start, seq)
		return
	}
	if d, ok := c.rcv.duplicateOOO(seq, seq.Add(seqnum.Size(len(payload)))); ok {
		c.noteDuplicate(d.start, d.end)
	}
}
