package tcp

import (
	"errors"
	"net/netip"
	"time"
)

// Forwarder is a passive open for destinations the stack does not own:
// a transparent proxy's LISTEN state. A SYN that reaches it is not
// answered at once but held as a pending request until the caller
// decides: Complete sends the SYN-ACK (RFC 9293 §3.10.7.2, LISTEN third
// check, deferred), Reject answers as a closed port would (§3.10.7.1), and
// Forget stays silent. There is one request per 4-tuple: a SYN
// retransmitted while its request is pending is absorbed.
//
// Pending requests are bounded in total and per source address. When the
// total bound is reached and SYN cookies are allowed, the forwarder answers
// with a SYN cookie (RFC 4987 §3.6) instead, keeping no state; a valid
// cookie ACK then makes a request whose handshake is already complete
// (Request.Conn is set), held in a second pool of the same size. Every
// request has a deadline after which Expire rejects it with a RST.
type Forwarder struct {
	env     *Env
	pending map[Tuple]*Request
	queue   []*Request // by deadline: every request has the same timeout
	sources map[netip.Addr]int
	cookies *Listener // SYN-cookie state for forwarded SYNs
	// Half and Established count the pending requests of each pool.
	half, estab int

	// Timeout is how long a request waits for a decision; MaxPending and
	// MaxPerSource bound pending requests (zero: the defaults below).
	Timeout      time.Duration
	MaxPending   int
	MaxPerSource int

	Stats ForwardStats
}

// Forwarder defaults. The decision deadline is longer than a client's
// first three SYN retransmissions (1 s, 3 s, 7 s) so a slow upstream
// still gets its answer through, and much shorter than a client's connect
// timeout (127 s on Linux), so a hung decision never holds a slot for long.
const (
	DefaultForwardTimeout      = 10 * time.Second
	DefaultForwardMaxPending   = 1024
	DefaultForwardMaxPerSource = 256
)

// ForwardStats count what a Forwarder did.
type ForwardStats struct {
	Requests          uint64 // requests made (one per 4-tuple)
	Duplicates        uint64 // SYNs absorbed by a pending request
	Completed         uint64 // Complete: SYN-ACK sent, or a cookie handshake handed over
	Rejected          uint64 // Reject: RST sent
	Forgotten         uint64 // Forget: the request ended without an answer (drop, ICMP)
	Expired           uint64 // deadline passed undecided: RST sent
	ClientResets      uint64 // the client reset a pending request
	RefusedTotal      uint64 // SYNs refused with a RST: pending bound reached, no cookies
	RefusedPerSource  uint64 // SYNs refused with a RST: source's bound reached
	CookiesSent       uint64 // SYN cookies sent for forwarded SYNs
	CookiesRecv       uint64 // requests made from a valid cookie ACK
	MaxPendingSeen    int    // high-water mark of pending SYNs (the half-open pool)
	MaxHandshakenSeen int    // high-water mark of pending cookie requests (the established pool)
}

// Request is one pending forwarded SYN.
type Request struct {
	Tuple Tuple
	// SYN is the client's SYN, without its payload (data on a SYN is
	// not acknowledged: the client sends it again).
	SYN Segment
	// Conn is the established connection when a SYN cookie already
	// completed the handshake; nil otherwise.
	Conn     *Conn
	Deadline time.Duration
	// Owner is the caller's: the runtime's handle on the request.
	Owner any
	// Dropped: Forget was called; the entry only absorbs retransmitted
	// SYNs until its deadline.
	dropped bool
	gone    bool
}

// NewForwarder returns an empty forwarder using env.
func NewForwarder(env *Env) *Forwarder {
	f := &Forwarder{
		env:     env,
		pending: make(map[Tuple]*Request),
		sources: make(map[netip.Addr]int),
		cookies: NewListener(env),
	}
	f.cookies.AcceptQueue = int(^uint(0) >> 1) // the forwarder bounds its own pools
	return f
}

func (f *Forwarder) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultForwardTimeout
}

func (f *Forwarder) maxPending() int {
	if f.MaxPending > 0 {
		return f.MaxPending
	}
	return DefaultForwardMaxPending
}

func (f *Forwarder) maxPerSource() int {
	if f.MaxPerSource > 0 {
		return f.MaxPerSource
	}
	return DefaultForwardMaxPerSource
}

// Pending returns the number of pending requests in each pool.
func (f *Forwarder) Pending() (halfOpen, established int) { return f.half, f.estab }

// Errors of a decision.
var (
	ErrRequestGone = errors.New("forward request expired, reset or already decided")
)

// Input handles a segment to a forwarded destination that matches no
// connection. It returns a new request (the caller asks its handler; if
// a valid cookie ACK made it, its Conn is established and the caller
// files it under t), or a request the client reset (reset is true: the
// caller tells its handler).
func (f *Forwarder) Input(now time.Duration, t Tuple, seg *Segment, out *Output) (req *Request, reset bool) {
	r := f.pending[t]
	switch {
	case seg.has(flagRST):
		if r == nil || r.dropped || r.Conn != nil {
			f.cookies.drop(t, seg, DropListenRST)
			return nil, false
		}
		// RFC 9293 §3.10.7.2: a RST in LISTEN is ignored; here the
		// client gave up on a SYN we never answered, so its request
		// ends with nothing sent.
		f.Stats.ClientResets++
		f.remove(r)
		return r, true
	case r != nil:
		// A retransmitted SYN, or anything else, while the decision is
		// pending: one request per 4-tuple.
		if seg.has(flagSYN) {
			f.Stats.Duplicates++
		}
		f.cookies.drop(t, seg, DropForwardPending)
		return nil, false
	case seg.has(flagACK):
		if c, handled := f.cookies.cookieAck(now, t, seg, out); handled {
			f.cookies.Accept()
			if c == nil {
				return nil, false
			}
			return f.cookieRequest(now, t, seg, c, out), false
		}
		o := out.push(t)
		o.Seq, o.Flags = seg.Ack, flagRST
		f.cookies.drop(t, seg, DropListenAck)
		return nil, false
	case !seg.has(flagSYN):
		f.cookies.drop(t, seg, DropListenNoSyn)
		return nil, false
	}
	if f.sources[t.RemoteAddr] >= f.maxPerSource() {
		f.Stats.RefusedPerSource++
		f.refuse(t, seg, out)
		return nil, false
	}
	mode := f.env.Config.SynCookies
	if mode == CookiesAlways || mode == CookiesWhenFull && f.half >= f.maxPending() {
		f.cookies.sendCookie(now, t, seg, out)
		f.Stats.CookiesSent++
		return nil, false
	}
	if f.half >= f.maxPending() {
		f.Stats.RefusedTotal++
		f.refuse(t, seg, out)
		return nil, false
	}
	r = &Request{Tuple: t, SYN: *seg, Deadline: now + f.timeout()}
	r.SYN.Payload = nil
	f.add(r)
	return r, false
}

// cookieRequest files a request for a connection a cookie ACK built,
// within the established pool's bounds.
func (f *Forwarder) cookieRequest(now time.Duration, t Tuple, seg *Segment, c *Conn, out *Output) *Request {
	if f.estab >= f.maxPending() || f.sources[t.RemoteAddr] >= f.maxPerSource() {
		if f.estab >= f.maxPending() {
			f.Stats.RefusedTotal++
		} else {
			f.Stats.RefusedPerSource++
		}
		f.cookies.drop(t, seg, DropForwardLimit)
		c.Abort(now, out)
		return nil
	}
	f.Stats.CookiesRecv++
	r := &Request{Tuple: t, SYN: *seg, Conn: c, Deadline: now + f.timeout()}
	r.SYN.Payload = nil
	f.add(r)
	return r
}

// Gone reports whether a request is no longer pending.
func (r *Request) Gone() bool { return r.gone || r.dropped }

func (f *Forwarder) refuse(t Tuple, seg *Segment, out *Output) {
	f.cookies.drop(t, seg, DropForwardLimit)
	if !ResetFor(seg, out.push(t)) {
		out.Segs = out.Segs[:len(out.Segs)-1]
	}
}

func (f *Forwarder) add(r *Request) {
	f.Stats.Requests++
	f.pending[r.Tuple] = r
	f.queue = append(f.queue, r)
	f.sources[r.Tuple.RemoteAddr]++
	if r.Conn != nil {
		f.estab++
	} else {
		f.half++
	}
	f.Stats.MaxPendingSeen = max(f.Stats.MaxPendingSeen, f.half)
	f.Stats.MaxHandshakenSeen = max(f.Stats.MaxHandshakenSeen, f.estab)
}

// release frees r's slot in its pool; a dropped request keeps only its
// entry in pending (absorbing retransmissions), not its slot.
func (f *Forwarder) release(r *Request) {
	if r.dropped || r.gone {
		return
	}
	if r.Conn != nil {
		f.estab--
	} else {
		f.half--
	}
	if n := f.sources[r.Tuple.RemoteAddr] - 1; n > 0 {
		f.sources[r.Tuple.RemoteAddr] = n
	} else {
		delete(f.sources, r.Tuple.RemoteAddr)
	}
}

func (f *Forwarder) remove(r *Request) {
	f.release(r)
	r.gone = true
	if f.pending[r.Tuple] == r {
		delete(f.pending, r.Tuple)
	}
	// Removed requests leave the deadline queue lazily; compact it when
	// they are most of it.
	if len(f.queue) > 64 && len(f.queue) > 2*len(f.pending) {
		q := f.queue[:0]
		for _, x := range f.queue {
			if !x.gone {
				q = append(q, x)
			}
		}
		clear(f.queue[len(q):])
		f.queue = q
	}
}

// Complete accepts r: for a SYN it returns a child in SYN-RECEIVED whose
// SYN-ACK is in out; for a cookie request, its established connection.
func (f *Forwarder) Complete(now time.Duration, r *Request, out *Output) (*Conn, error) {
	if r.Gone() {
		return nil, ErrRequestGone
	}
	f.remove(r)
	f.Stats.Completed++
	if r.Conn != nil {
		return r.Conn, nil
	}
	return newPassive(f.env, now, r.Tuple, &r.SYN, out), nil
}

// Reject answers r with a RST, as a port with no listener would
// (RFC 9293 §3.10.7.1); a cookie request's connection is aborted.
func (f *Forwarder) Reject(now time.Duration, r *Request, out *Output) error {
	if r.Gone() {
		return ErrRequestGone
	}
	f.remove(r)
	f.Stats.Rejected++
	f.reset(now, r, out)
	return nil
}

func (f *Forwarder) reset(now time.Duration, r *Request, out *Output) {
	if r.Conn != nil {
		r.Conn.Abort(now, out)
		return
	}
	ResetFor(&r.SYN, out.push(r.Tuple))
}

// Forget ends r without an answer (the caller may send an ICMP error of
// its own). Until r's deadline, retransmissions of its SYN are absorbed
// rather than made into a new request. A cookie request's connection,
// already established, is aborted: it cannot be forgotten silently.
func (f *Forwarder) Forget(now time.Duration, r *Request, out *Output) error {
	if r.Gone() {
		return ErrRequestGone
	}
	f.Stats.Forgotten++
	if r.Conn != nil {
		f.remove(r)
		r.Conn.Abort(now, out)
		return nil
	}
	f.release(r)
	r.dropped = true
	return nil
}

// Deadline returns when the earliest pending request expires, or Never.
func (f *Forwarder) Deadline() time.Duration {
	for len(f.queue) > 0 && f.queue[0].gone {
		f.pop()
	}
	if len(f.queue) == 0 {
		return Never
	}
	return f.queue[0].Deadline
}

func (f *Forwarder) pop() {
	f.queue[0] = nil
	f.queue = f.queue[1:]
}

// Expire rejects every request whose deadline has passed with a RST (a
// dropped one is just forgotten) and appends the expired undecided ones
// to expired, which it returns.
func (f *Forwarder) Expire(now time.Duration, out *Output, expired []*Request) []*Request {
	for len(f.queue) > 0 && f.queue[0].Deadline <= now {
		r := f.queue[0]
		f.pop()
		if r.gone {
			continue
		}
		undecided := !r.dropped
		f.remove(r)
		if undecided {
			f.Stats.Expired++
			f.reset(now, r, out)
			expired = append(expired, r)
		}
	}
	return expired
}

// Close rejects every pending request with a RST and appends them to
// closed, which it returns.
func (f *Forwarder) Close(now time.Duration, out *Output, closed []*Request) []*Request {
	q := f.queue
	f.queue = nil
	for _, r := range q {
		if r.gone {
			continue
		}
		undecided := !r.dropped
		f.remove(r)
		if undecided {
			f.reset(now, r, out)
			closed = append(closed, r)
		}
	}
	f.cookies.closed = true
	return closed
}
