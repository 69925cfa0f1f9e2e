package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// Listener is a passive open (RFC 9293 §3.10.1): it answers SYNs with new
// children in SYN-RECEIVED (its SYN queue) and holds established children
// until accepted (its accept queue). Both queues are bounded by the Env's
// configuration.
type Listener struct {
	env    *Env
	half   []*Conn
	ready  []*Conn
	closed bool
	// cookieAt is when the listener last sent a SYN cookie; cookieSent
	// says whether it ever did. ACKs are checked as cookies only then.
	cookieAt   time.Duration
	cookieSent bool
	// SynQueue and AcceptQueue override the Env's limits when positive.
	SynQueue, AcceptQueue int
	// FastOpenQueue, when positive, enables TCP Fast Open (RFC 7413) and
	// bounds the Fast Open children still in SYN-RECEIVED (Linux's
	// TCP_FASTOPEN queue length).
	FastOpenQueue   int
	fastOpenPending int
}

// NewListener returns a listener using env.
func NewListener(env *Env) *Listener { return &Listener{env: env} }

func (l *Listener) synLimit() int {
	if l.SynQueue > 0 {
		return l.SynQueue
	}
	return l.env.Config.SynQueue
}

func (l *Listener) acceptLimit() int {
	if l.AcceptQueue > 0 {
		return l.AcceptQueue
	}
	return l.env.Config.AcceptQueue
}

// Input handles a segment addressed to the listener's port that matches no
// connection (RFC 9293 §3.10.7.2). For a SYN it returns the new child,
// whose SYN-ACK is in out; the caller files the child under t.
func (l *Listener) Input(now time.Duration, t Tuple, seg *Segment, out *Output) *Conn {
	switch {
	case seg.has(flagRST):
		l.drop(t, seg, DropListenRST)
		return nil
	case seg.has(flagACK):
		if c, handled := l.cookieAck(now, t, seg, out); handled {
			return c
		}
		r := out.push(t)
		r.Seq, r.Flags = seg.Ack, flagRST
		l.drop(t, seg, DropListenAck)
		return nil
	case !seg.has(flagSYN) || l.closed:
		l.drop(t, seg, DropListenNoSyn)
		return nil
	}
	if len(l.ready) >= l.acceptLimit() {
		// Like Linux: no new half-open children while the accept
		// queue is full; the peer's SYN timer retries.
		l.env.Stats.ListenOverflows++
		l.env.Stats.ListenDrops++
		l.drop(t, seg, DropAcceptQueueFull)
		return nil
	}
	mode := l.env.Config.SynCookies
	if mode == CookiesAlways || mode == CookiesWhenFull && len(l.half) >= l.synLimit() {
		l.sendCookie(now, t, seg, out)
		return nil
	}
	if len(l.half) >= l.synLimit() {
		l.env.Stats.ListenDrops++
		l.drop(t, seg, DropSynQueueFull)
		return nil
	}
	c := newFromSyn(l.env, now, t, l.env.ISN.ISN(now, t), seg)
	c.listener = l
	early := l.tryFastOpen(now, t, seg, c)
	c.queueSynText(seg)
	if early {
		c.fastOpenAccept()
		l.ready = append(l.ready, c)
	} else {
		l.half = append(l.half, c)
	}
	c.sendSyn(now, out)
	return c
}

func (l *Listener) drop(t Tuple, seg *Segment, r DropReason) {
	l.env.Stats.Drops[r]++
	if o := l.env.Observer; o != nil {
		o.Dropped(t, seg, r)
	}
}

func (l *Listener) roomToAccept() bool { return len(l.ready) < l.acceptLimit() }

func (l *Listener) childEstablished(c *Conn) {
	if c.tfo.isEarly() {
		return // already in the accept queue
	}
	l.half = remove(l.half, c)
	l.ready = append(l.ready, c)
}

func (l *Listener) childGone(c *Conn) {
	l.half = remove(l.half, c)
	l.ready = remove(l.ready, c)
	c.listener = nil
}

func remove(s []*Conn, c *Conn) []*Conn {
	for i, x := range s {
		if x == c {
			copy(s[i:], s[i+1:])
			s[len(s)-1] = nil
			return s[:len(s)-1]
		}
	}
	return s
}

// Accept takes the oldest established child, or nil.
func (l *Listener) Accept() *Conn {
	if len(l.ready) == 0 {
		return nil
	}
	c := l.ready[0]
	l.ready = remove(l.ready, c)
	c.listener = nil
	return c
}

// Pending returns the number of half-open and of established, unaccepted
// children.
func (l *Listener) Pending() (halfOpen, ready int) { return len(l.half), len(l.ready) }

// Close stops the listener and aborts its unaccepted children, each with a
// RST in out. It appends the children it closed to closed and returns it.
func (l *Listener) Close(now time.Duration, out *Output, closed []*Conn) []*Conn {
	l.closed = true
	kids := append(append([]*Conn(nil), l.half...), l.ready...)
	for _, c := range kids {
		c.Abort(now, out)
		closed = append(closed, c)
	}
	return closed
}

// ISS returns the connection's initial send sequence number.
func (c *Conn) ISS() seqnum.Value { return c.iss }

// IRS returns the peer's initial sequence number (valid once a SYN came).
func (c *Conn) IRS() seqnum.Value { return c.irs }
