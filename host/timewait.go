package host

import (
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// inputConn gives a segment to its connection. A SYN that a TIME-WAIT
// connection accepts as a new incarnation (RFC 9293 §3.10.7.4; RFC 6191
// with timestamps) retires the old connection and goes on to the
// listener or forwarder, as if it had matched nothing.
func (h *Host) inputConn(now time.Duration, c *Conn, t tcp.Tuple, seg *tcp.Segment) {
	// Only a SYN someone would take may end TIME-WAIT; others get the
	// ACK TIME-WAIT sends.
	reopen := seg.Flags.Has(wire.FlagSYN) && c.tcb.State() == tcp.TimeWait && h.takesNewSYN(t)
	reopened := c.tcb.InputMayReopen(now, seg, &h.out, reopen)
	h.Touch(c)
	if reopened {
		h.connEvents(c)
		c.dirty = false
		h.toListener(now, t, seg)
	}
}

// takesNewSYN reports whether a SYN on t that matched no connection
// would be taken, by a listener on an owned address or by a forwarder.
func (h *Host) takesNewSYN(t tcp.Tuple) bool {
	if l := h.findListener(t.LocalAddr, t.LocalPort); l != nil && h.IsLocal(t.LocalAddr) {
		return true
	}
	return h.forwarderFor(t.LocalAddr) != nil
}
