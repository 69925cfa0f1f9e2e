package tcp

import (
	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// sackOptions fills the SACK blocks of a segment we send (RFC 2018 §4):
// a pending D-SACK first (RFC 2883 §4), then the block holding the most
// recently received segment, then the blocks most recently reported,
// newest first, then any others. It does not change the connection:
// noLossState stands, read-only, for a connection's loss state before it
// is allocated.
var noLossState lossState

// sackReported records what actually went out.
func (c *Conn) sackOptions(o *wire.Options) {
	room := 4
	if o.HasTimestamps {
		room = 3 // 10 + 2 for TSopt leaves room for three (RFC 2018 §3)
	}
	ooo := c.rcv.ooo
	l := c.lossState
	if l == nil {
		l = &noLossState // nothing reported yet, no D-SACK pending
	}
	if len(ooo) == 0 && !l.dsackPending {
		return
	}
	var used [maxOOORanges]bool
	add := func(r seqRange) {
		if o.NumSACK < room {
			o.SACK[o.NumSACK] = wire.SACKBlock{Start: uint32(r.start), End: uint32(r.end)}
			o.NumSACK++
		}
	}
	if l.dsackPending {
		add(l.dsackOut)
	}
	if l := c.rcv.latest; l >= 0 && l < len(ooo) {
		used[l] = true
		add(ooo[l])
	}
	for i := 0; i < l.sackSentN && o.NumSACK < room; i++ {
		p := l.sackSent[i]
		for k, r := range ooo {
			// Blocks only grow (by merging) until acknowledged: the
			// block reported before is the one that now overlaps it.
			if !used[k] && r.start.LessThanEq(p.start) && p.start.LessThan(r.end) {
				used[k] = true
				add(r)
				break
			}
		}
	}
	for k := len(ooo) - 1; k >= 0 && o.NumSACK < room; k-- {
		if !used[k] {
			used[k] = true
			add(ooo[k])
		}
	}
}

// sackReported records the blocks a segment carried: the D-SACK is
// reported once, the others shape the order of the next report.
func (c *Conn) sackReported(o *wire.Options) {
	if !c.sackOK || c.lossState == nil && o.NumSACK == 0 {
		return
	}
	c.loss()
	first := 0
	if c.dsackPending && o.NumSACK > 0 {
		c.dsackPending = false
		first = 1
	}
	c.sackSentN = 0
	for i := first; i < o.NumSACK; i++ {
		b := o.SACK[i]
		c.sackSent[c.sackSentN] = seqRange{start: seqnum.Value(b.Start), end: seqnum.Value(b.End)}
		c.sackSentN++
	}
}
