package tcp

import "github.com/threeway-tcp/threeway/seqnum"

// maxPooledTCBs bounds the TCBs an Env keeps for reuse, so a burst of
// connections does not pin its memory for good.
const maxPooledTCBs = 1024

// tcbPool holds CLOSED connections handed back by Recycle. A new
// connection (active, passive, from a cookie or TIME-WAIT) takes one
// before allocating, so a handshake with pooled TCBs allocates nothing.
type tcbPool struct{ free []*Conn }

// Recycle hands back a CLOSED connection for a later connection to reuse,
// with the loss-recovery state it allocated. The caller must keep no
// reference to c: its next incarnation belongs to someone else. A
// connection that is not CLOSED, or still holds unread data, is left
// alone.
func (e *Env) Recycle(c *Conn) {
	if c == nil || c.env != e || c.state != Closed || c.rcv.n > 0 || len(e.tcbs.free) >= maxPooledTCBs {
		return // (a TCB already recycled has no Env)
	}
	c.snd.release(&e.sendPool)
	c.rcv.release(&e.recvPool)
	c.env = nil // marks it free
	e.tcbs.free = append(e.tcbs.free, c)
}

// newTCB returns a zeroed Conn, pooled if one is free. A pooled one keeps
// its loss-recovery state, reset to fresh, which nothing can tell from
// one allocated later (loss).
func (e *Env) newTCB(iss seqnum.Value) *Conn {
	n := len(e.tcbs.free)
	if n == 0 {
		return new(Conn)
	}
	c := e.tcbs.free[n-1]
	e.tcbs.free[n-1] = nil
	e.tcbs.free = e.tcbs.free[:n-1]
	l := c.lossState
	*c = Conn{}
	if l != nil {
		l.reset(iss)
		c.lossState = l
	}
	return c
}
