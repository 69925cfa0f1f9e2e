package threeway

import (
	"errors"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
)

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
	s       *Stack
	handler ForwardHandler
	opts    ForwardOptions
	hf      *host.Forwarder // guarded by the stack lock
}

// EchoStats count the echo requests a forwarder saw.
type EchoStats = host.EchoStats

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
	f := &Forwarder{s: s, handler: handler, opts: opts}
	maxEchoes := opts.MaxPending
	if maxEchoes <= 0 {
		maxEchoes = 1024
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStackClosed
	}
	f.hf = s.host.Forward(host.ForwarderConfig{Prefixes: ps, Echo: opts.Echo, EchoHandler: opts.EchoHandler != nil, MaxEchoes: maxEchoes})
	f.hf.User = f
	core := f.hf.Core()
	core.Timeout, core.MaxPending, core.MaxPerSource = opts.Timeout, opts.MaxPending, opts.MaxPerSource
	return f, nil
}

// Close stops forwarding: pending requests are rejected with a RST.
// Connections already completed carry on.
func (f *Forwarder) Close() error {
	s := f.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	now := s.now()
	s.host.CloseForwarder(now, f.hf)
	s.flushLocked(now)
	s.unlock()
	return nil
}

// Stats returns the forwarder's counters.
func (f *Forwarder) Stats() ForwardStats {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	core := f.hf.Core()
	st := ForwardStats{ForwardStats: core.Stats, Echo: f.hf.Echo}
	st.PendingHalfOpen, st.PendingEstablished = core.Pending()
	return st
}

// request starts the handler of a SYN the host got for f; hc is the
// connection a SYN cookie already completed, if any. Called with the
// stack lock held.
func (f *Forwarder) request(r *tcp.Request, hc *host.Conn) {
	req := f.newRequest(r)
	if hc != nil {
		req.conn = f.s.wrap(hc)
	}
	go f.handle(req)
}

// endCause is the Context cause of a request the host ended.
func endCause(c host.EndCause) error {
	switch c {
	case host.EndTimeout:
		return ErrForwardTimeout
	case host.EndClientReset:
		return errClientReset
	}
	return errForwarderClosed
}

func (f *Forwarder) handle(req *ForwardRequest) {
	defer func() {
		if !req.decided.Load() {
			req.Reject()
		}
	}()
	f.handler(req)
}
