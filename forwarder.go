package threeway

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// transparentState is what the stack keeps for traffic that is not to
// its own addresses: forwarders, and the foreign local addresses of the
// connections forwarders and spoofing dials made.
type transparentState struct {
	forwarders []*Forwarder
	// foreign counts live connections by local address, for addresses
	// the stack does not own: their packets are accepted while any lives.
	foreign  map[netip.Addr]int
	spoofing bool
	expired  []*tcp.Request
}

// ForwardHandler decides a forwarded SYN. It runs in a goroutine of its
// own and must decide once: Complete, Reject, RejectUnreachable or Drop.
// A handler that returns without deciding rejects the request with a RST;
// one that takes longer than the forwarder's timeout finds the request
// already rejected (its Context ends at the deadline). Either way the
// request's slot is freed.
type ForwardHandler func(*ForwardRequest)

// ForwardOptions tune a Forwarder. Zero fields take the defaults.
type ForwardOptions struct {
	// Timeout is the decision deadline (default 10 s,
	// tcp.DefaultForwardTimeout): longer than a client's first three SYN
	// retransmissions, far shorter than its connect timeout.
	Timeout time.Duration
	// MaxPending bounds the requests awaiting a decision (default 1024);
	// past it SYNs get SYN cookies (or, with cookies off, a RST).
	// MaxPerSource bounds them per client address (default 256; past it,
	// a RST). Refusals are counted in ForwardStats.
	MaxPending, MaxPerSource int
	// Echo answers ICMP and ICMPv6 echo requests to every address the
	// forwarder covers, as if each were up.
	Echo bool
	// EchoHandler, if set, receives those echo requests instead (in a
	// goroutine of its own) and may Reply, say after pinging the real
	// destination. At most MaxPending run at once; more are dropped.
	EchoHandler func(*EchoRequest)
}

// Forwarder terminates TCP connections to destinations the stack does not
// own, for a transparent proxy, VPN or tunnel endpoint: every SYN to a
// covered address and port with no listener becomes one ForwardRequest.
type Forwarder struct {
	s        *Stack
	prefixes []netip.Prefix
	handler  ForwardHandler
	opts     ForwardOptions
	core     *tcp.Forwarder
	echoes   atomic.Int32
	closed   bool
	echoStat EchoStats
}

// EchoStats count the echo requests a forwarder saw.
type EchoStats struct {
	Answered, Handed, Dropped uint64
}

// ForwardStats are a forwarder's counters.
type ForwardStats struct {
	tcp.ForwardStats
	PendingHalfOpen, PendingEstablished int
	Echo                                EchoStats
}

// Forward registers handler for TCP connections to the given prefixes
// (none: every address of both families). The most specific forwarder
// covering a destination gets it; the stack's own listeners come first.
func (s *Stack) Forward(prefixes []netip.Prefix, handler ForwardHandler, opts ForwardOptions) (*Forwarder, error) {
	if handler == nil {
		return nil, errors.New("threeway: Forward needs a handler")
	}
	if len(prefixes) == 0 {
		prefixes = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	ps := make([]netip.Prefix, len(prefixes))
	for i, p := range prefixes {
		if !p.IsValid() {
			return nil, errors.New("threeway: invalid forward prefix " + p.String())
		}
		ps[i] = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
	}
	f := &Forwarder{s: s, prefixes: ps, handler: handler, opts: opts, core: tcp.NewForwarder(s.env)}
	f.core.Timeout, f.core.MaxPending, f.core.MaxPerSource = opts.Timeout, opts.MaxPending, opts.MaxPerSource
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStackClosed
	}
	s.transparent.forwarders = append(s.transparent.forwarders, f)
	go func() {
		// The stack's end ends every pending request's context.
		<-s.done
		s.mu.Lock()
		f.closeLocked(s.now())
		s.out.Reset() // the link is gone: nothing more is sent
		s.mu.Unlock()
	}()
	return f, nil
}

// Close stops forwarding: pending requests are rejected with a RST.
// Connections already completed carry on.
func (f *Forwarder) Close() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed {
		return nil
	}
	now := s.now()
	f.closeLocked(now)
	s.flushLocked(now)
	return nil
}

func (f *Forwarder) closeLocked(now time.Duration) {
	if f.closed {
		return
	}
	f.closed = true
	s := f.s
	fs := s.transparent.forwarders
	for i, x := range fs {
		if x == f {
			s.transparent.forwarders = append(fs[:i:i], fs[i+1:]...)
			break
		}
	}
	for _, r := range f.core.Close(now, &s.out, nil) {
		f.ended(r, errForwarderClosed)
	}
}

// Stats returns the forwarder's counters.
func (f *Forwarder) Stats() ForwardStats {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	st := ForwardStats{ForwardStats: f.core.Stats, Echo: f.echoStat}
	st.PendingHalfOpen, st.PendingEstablished = f.core.Pending()
	return st
}

func (f *Forwarder) covers(a netip.Addr) int {
	best := -1
	for _, p := range f.prefixes {
		if p.Contains(a) {
			best = max(best, p.Bits())
		}
	}
	return best
}

// forwarderFor returns the most specific forwarder covering a, or nil.
func (s *Stack) forwarderFor(a netip.Addr) *Forwarder {
	var best *Forwarder
	bits := -1
	for _, f := range s.transparent.forwarders {
		if b := f.covers(a); b > bits {
			best, bits = f, b
		}
	}
	return best
}

// forwardInput offers a segment that matched no connection and no
// listener to the forwarder covering its destination. It reports whether
// one took it.
func (s *Stack) forwardInput(now time.Duration, t tcp.Tuple, seg *tcp.Segment) bool {
	f := s.forwarderFor(t.LocalAddr)
	if f == nil {
		return false
	}
	r, reset := f.core.Input(now, t, seg, &s.out)
	switch {
	case r == nil:
	case reset:
		f.ended(r, errClientReset)
	default:
		req := f.newRequest(r)
		if r.Conn != nil {
			// A SYN cookie completed the handshake: the connection
			// exists now, so what the client sends is kept.
			req.conn = s.fileConn(r.Conn, t)
		}
		go f.handle(req)
	}
	return true
}

// takesNewSYN reports whether a SYN on t that matched no connection
// would be taken, by a listener on an owned address or by a forwarder: a
// TIME-WAIT connection on t may then give way to it (RFC 9293 §3.10.7.4).
func (s *Stack) takesNewSYN(t tcp.Tuple) bool {
	if l := s.findListener(t.LocalAddr, t.LocalPort); l != nil && s.isLocal(t.LocalAddr) {
		return true
	}
	return s.forwarderFor(t.LocalAddr) != nil
}

// fileConn wraps a core connection and files it under t.
func (s *Stack) fileConn(tcb *tcp.Conn, t tcp.Tuple) *Conn {
	c := s.newConn(tcb, t)
	s.conns[t] = c
	s.refForeign(c)
	s.markDirty(c)
	return c
}

// refForeign counts c under its local address if the stack does not own
// that address, so c's packets are accepted while it lives.
func (s *Stack) refForeign(c *Conn) {
	if s.isLocal(c.tuple.LocalAddr) {
		return
	}
	if s.transparent.foreign == nil {
		s.transparent.foreign = make(map[netip.Addr]int)
	}
	s.transparent.foreign[c.tuple.LocalAddr]++
	c.foreign = true
}

// unrefForeign undoes refForeign when c is retired.
func (s *Stack) unrefForeign(c *Conn) {
	if !c.foreign {
		return
	}
	c.foreign = false
	a := c.tuple.LocalAddr
	if n := s.transparent.foreign[a] - 1; n > 0 {
		s.transparent.foreign[a] = n
	} else {
		delete(s.transparent.foreign, a)
	}
}

func (f *Forwarder) handle(req *ForwardRequest) {
	defer func() {
		if !req.decided.Load() {
			req.Reject()
		}
	}()
	f.handler(req)
}

// ended tells a request's handler that it is over without a decision.
func (f *Forwarder) ended(r *tcp.Request, cause error) {
	if req, ok := r.Owner.(*ForwardRequest); ok {
		req.cancel(cause)
	}
}

// forwardDeadline is the earliest decision deadline of any forwarder.
func (s *Stack) forwardDeadline() time.Duration {
	at := tcp.Never
	for _, f := range s.transparent.forwarders {
		at = min(at, f.core.Deadline())
	}
	return at
}

// expireForwards rejects requests whose decision deadline passed.
func (s *Stack) expireForwards(now time.Duration) {
	for _, f := range s.transparent.forwarders {
		if f.core.Deadline() > now {
			continue
		}
		s.transparent.expired = f.core.Expire(now, &s.out, s.transparent.expired[:0])
		for _, r := range s.transparent.expired {
			if r.Conn != nil {
				if c := s.conns[r.Tuple]; c != nil {
					s.markDirty(c)
				}
			}
			f.ended(r, ErrForwardTimeout)
		}
		clear(s.transparent.expired)
	}
}
