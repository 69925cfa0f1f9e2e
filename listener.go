package threeway

import (
	"context"
	"net"
	"net/netip"

	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
)

// Listener is a passive open on a Stack. It implements net.Listener.
type Listener struct {
	s       *Stack
	network string
	hl      *host.Listener
	tcb     *tcp.Listener // hl's
	key     host.Key
	ready   chan struct{}
	closed  chan struct{}
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
	hl, err := s.host.Listen(ap.Addr(), ap.Port())
	if err != nil {
		a := address
		if err == host.ErrAddrNotOurs {
			a = ap.Addr().String()
		}
		return nil, opErr(bindError(err, a))
	}
	l := &Listener{
		s: s, network: network, hl: hl, tcb: hl.TCB(), key: hl.Key(),
		ready: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	hl.User = l
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
		if hc, more := l.s.host.Accept(l.hl); hc != nil {
			// Wake the next Accept if more are ready.
			if more {
				notify(l.ready)
			}
			l.s.mu.Unlock()
			return hc.User.(*Conn), nil
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
	select {
	case <-l.closed:
		s.mu.Unlock()
		return l.opErrorFor("close", net.ErrClosed)
	default:
	}
	l.markClosed()
	now := s.now()
	s.host.CloseListener(now, l.hl)
	s.flushLocked(now)
	s.unlock()
	return nil
}

// markClosed makes Accept and Close report net.ErrClosed.
func (l *Listener) markClosed() {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
}

// Addr returns the listening address as a *net.TCPAddr.
func (l *Listener) Addr() net.Addr {
	a := l.key.Addr
	if !a.IsValid() {
		a = netip.IPv6Unspecified()
	}
	return net.TCPAddrFromAddrPort(netipAddrPort(a, l.key.Port))
}
