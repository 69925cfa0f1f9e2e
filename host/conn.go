package host

import (
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Conn is a TCP connection the host demultiplexes to: the core's TCB and
// the host's bookkeeping for it.
type Conn struct {
	// User is the runtime's wrapper, set by the runtime.
	User any

	tcb      *tcp.Conn
	listener *Listener // while unaccepted
	deadline time.Duration
	heapIdx  int32
	dirty    bool
	foreign  bool // counted in the host's foreign addresses
}

// TCB is the core connection. Calls on it must be followed by Touch.
func (c *Conn) TCB() *tcp.Conn { return c.tcb }

// Listener is the listener that made c and has not yet handed it out.
func (c *Conn) Listener() *Listener { return c.listener }

// CloseConn closes c gracefully (RFC 9293 §3.10.4).
func (h *Host) CloseConn(now time.Duration, c *Conn) { c.tcb.Close(now, &h.out); h.Touch(c) }

// AbortConn resets c (RFC 9293 §3.10.5).
func (h *Host) AbortConn(now time.Duration, c *Conn) { c.tcb.Abort(now, &h.out); h.Touch(c) }

func (h *Host) newConn(tcb *tcp.Conn) *Conn {
	return &Conn{tcb: tcb, heapIdx: -1}
}

// Touch marks c for the next Flush: a user call changed it.
func (h *Host) Touch(c *Conn) {
	if !c.dirty {
		c.dirty = true
		h.dirty = append(h.dirty, c)
	}
}

// connEvents reports c's events, and retires it or re-arms its timer.
func (h *Host) connEvents(c *Conn) {
	ev := c.tcb.TakeEvents()
	retire := ev&tcp.EvClosed != 0 || c.tcb.State() == tcp.Closed
	if ev != 0 || retire {
		h.emit(Event{Kind: ConnEvent, Bits: ev, Conn: c, Retired: retire})
	}
	if ev&(tcp.EvEstablished|tcp.EvAcceptable) != 0 && c.tcb.Passive() && c.listener != nil {
		h.emit(Event{Kind: AcceptEvent, Listener: c.listener})
	}
	if retire {
		// A closed TCB never has timer work: a call on a Conn after it
		// was retired must not put it back in the heap.
		h.retire(c)
	} else {
		h.timers.update(c, c.tcb.Deadline())
	}
}

// retire forgets a closed connection.
func (h *Host) retire(c *Conn) {
	t := c.tcb.Tuple()
	if h.conns[t] == c {
		delete(h.conns, t)
		h.unrefForeign(c)
	}
	h.timers.remove(c)
	c.listener = nil
}

// file adds a connection to the table under its tuple.
func (h *Host) file(tcb *tcp.Conn) *Conn {
	c := h.newConn(tcb)
	h.conns[tcb.Tuple()] = c
	h.refForeign(c)
	h.Touch(c)
	return c
}

// Queue takes segments the core produced for a call made with an Output
// of the caller's (an Abort, say) and sends them with the host's own.
func (h *Host) Queue(out *tcp.Output) {
	h.out.Segs = append(h.out.Segs, out.Segs...)
	out.Reset()
}
