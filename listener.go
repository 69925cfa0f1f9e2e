package threeway

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/threeway-tcp/threeway/tcp"
)

// listenKey is a listening address: a specific address, an unspecified
// address of one family (0.0.0.0 or ::), or the zero Addr for both.
type listenKey struct {
	addr netip.Addr
	port uint16
}

// Listener is a passive open on a Stack. It implements net.Listener.
type Listener struct {
	s       *Stack
	network string
	tcb     *tcp.Listener
	key     listenKey
	ready   chan struct{}
	closed  chan struct{}
}

// findListener finds the listener for a local address and port: the
// exact address first, then its family's wildcard, then the dual-stack one.
func (s *Stack) findListener(a netip.Addr, port uint16) *Listener {
	if l := s.listeners[listenKey{a, port}]; l != nil {
		return l
	}
	wild := netip.IPv4Unspecified()
	if !a.Is4() {
		wild = netip.IPv6Unspecified()
	}
	if l := s.listeners[listenKey{wild, port}]; l != nil {
		return l
	}
	return s.listeners[listenKey{netip.Addr{}, port}]
}

// listenConflict reports whether a listener already covers any address
// that key would: as on Linux, a wildcard and a specific address on one
// port collide, and so do the dual-stack wildcard and either family's.
func (s *Stack) listenConflict(key listenKey) bool {
	for k := range s.listeners {
		if k.port == key.port && addrsOverlap(k.addr, key.addr) {
			return true
		}
	}
	return false
}

// addrsOverlap reports whether two listening addresses can receive the
// same segment.
func addrsOverlap(a, b netip.Addr) bool {
	switch {
	case !a.IsValid() || !b.IsValid():
		return true // the dual-stack wildcard
	case a.Is4() != b.Is4():
		return false
	case a.IsUnspecified() || b.IsUnspecified():
		return true
	}
	return a == b
}

// Listen announces on the stack's address. network is "tcp", "tcp4" or
// "tcp6"; address is "host:port" with an IP literal or empty host. Port 0
// picks an ephemeral port. As with package net, the net.Listener is a
// *Listener (ListenTCP returns it as such). After Stack.Close the error
// wraps ErrStackClosed.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	return s.listen(network, address)
}

// listen is Listen returning the concrete type.
func (s *Stack) listen(network, address string) (*Listener, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	ap, err := parseListenAddr(network, address)
	if err != nil {
		return nil, opErr(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(ErrStackClosed)
	}
	if ap.Addr().IsValid() && !ap.Addr().IsUnspecified() && !s.isLocal(ap.Addr()) {
		return nil, opErr(&net.AddrError{Err: "cannot assign requested address", Addr: ap.Addr().String()})
	}
	port := ap.Port()
	if port == 0 {
		port = s.pickListenPort(ap.Addr())
		if port == 0 {
			return nil, opErr(&net.AddrError{Err: "no free port", Addr: address})
		}
	}
	key := listenKey{ap.Addr(), port}
	if s.listenConflict(key) {
		return nil, opErr(os.NewSyscallError("bind", syscall.EADDRINUSE))
	}
	l := &Listener{
		s: s, network: network, tcb: tcp.NewListener(s.env), key: key,
		ready: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	s.listeners[key] = l
	return l, nil
}

// SetBacklog bounds the listener's SYN queue (half-open) and accept queue
// (established, not yet accepted). Zero keeps the stack's default.
func (l *Listener) SetBacklog(synQueue, acceptQueue int) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.tcb.SynQueue, l.tcb.AcceptQueue = synQueue, acceptQueue
}

// SetFastOpen enables TCP Fast Open (RFC 7413) on the listener, as
// Linux's TCP_FASTOPEN socket option does: a SYN asking for a cookie gets
// one, and a SYN with a valid cookie makes a connection that Accept
// returns at once with the SYN's data readable, before the handshake
// completes. queue bounds such connections still in SYN-RECEIVED; beyond
// it, and whenever the listener answers with SYN cookies, SYNs get a
// regular handshake. Zero turns Fast Open off.
func (l *Listener) SetFastOpen(queue int) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.tcb.FastOpenQueue = max(queue, 0)
}

// Accept waits for and returns the next connection.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptContext(context.Background()) }

// AcceptContext is Accept that gives up when ctx is done.
func (l *Listener) AcceptContext(ctx context.Context) (net.Conn, error) {
	for {
		l.s.mu.Lock()
		select {
		case <-l.closed:
			l.s.mu.Unlock()
			return nil, l.opError(net.ErrClosed)
		default:
		}
		if tcb := l.tcb.Accept(); tcb != nil {
			c := l.s.conns[tcb.Tuple()]
			if c != nil {
				c.listener = nil
			}
			// Wake the next Accept if more are ready.
			if _, ready := l.tcb.Pending(); ready > 0 {
				notify(l.ready)
			}
			l.s.mu.Unlock()
			if c == nil {
				continue
			}
			return c, nil
		}
		l.s.mu.Unlock()
		select {
		case <-l.ready:
		case <-l.closed:
		case <-ctx.Done():
			return nil, l.opError(ctx.Err())
		}
	}
}

func (l *Listener) opError(err error) error { return l.opErrorFor("accept", err) }

func (l *Listener) opErrorFor(op string, err error) error {
	return &net.OpError{Op: op, Net: l.network, Addr: l.Addr(), Err: err}
}

// Close stops listening; half-open and unaccepted connections get a RST.
func (l *Listener) Close() error {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-l.closed:
		return l.opErrorFor("close", net.ErrClosed)
	default:
	}
	if s.closed {
		l.closeLocked()
		return nil
	}
	now := s.now()
	s.closedCh = l.tcb.Close(now, &s.out, s.closedCh[:0])
	for _, tcb := range s.closedCh {
		if c := s.conns[tcb.Tuple()]; c != nil {
			s.markDirty(c)
		}
	}
	clear(s.closedCh)
	l.closeLocked()
	s.flushLocked(now)
	return nil
}

func (l *Listener) closeLocked() {
	if l.s.listeners[l.key] == l {
		delete(l.s.listeners, l.key)
	}
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
}

// Addr returns the listening address as a *net.TCPAddr.
func (l *Listener) Addr() net.Addr {
	a := l.key.addr
	if !a.IsValid() {
		a = netip.IPv6Unspecified()
	}
	return net.TCPAddrFromAddrPort(netipAddrPort(a, l.key.port))
}
