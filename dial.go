package threeway

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Dial connects to address ("ip:port") on network "tcp", "tcp4" or "tcp6",
// or opens a connected UDP socket on "udp", "udp4" or "udp6". It is the
// zero Dialer's Dial: a Dialer sets the local address, a timeout, buffer
// sizes and the other socket options. As with package net, the net.Conn
// is a *Conn for TCP and a *UDPConn for UDP; type-assert it for their
// other methods.
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext is Dial that gives up when ctx is done: the zero Dialer's
// DialContext.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return (&Dialer{Stack: s}).DialContext(ctx, network, address)
}

// awaitEstablished waits for an active open to finish, aborting it if
// ctx ends first.
func (c *Conn) awaitEstablished(ctx context.Context, network string) error {
	s := c.s
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	for {
		s.mu.Lock()
		st, cerr, closed := c.tcb.State(), c.tcb.Err(), s.closed
		s.mu.Unlock()
		switch {
		case closed: // Stack.Close aborted the handshake
			return opErr(ErrStackClosed)
		case cerr != nil:
			return opErr(os.NewSyscallError("connect", cerr))
		case st == tcp.Closed:
			return opErr(net.ErrClosed)
		case st != tcp.SynSent && st != tcp.SynReceived:
			return nil
		}
		select {
		case <-c.wwait:
		case <-s.done:
			return opErr(ErrStackClosed)
		case <-ctx.Done():
			c.do(func(now time.Duration) { c.tcb.Abort(now, &s.out) })
			return opErr(contextError(ctx))
		}
	}
}

// contextError is why ctx ended, a deadline marked as a timeout as
// package net marks it.
func contextError(ctx context.Context) error {
	err := context.Cause(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return errTimeout{err}
	}
	return err
}

// errTimeout marks a context deadline as a timeout, as package net does.
type errTimeout struct{ error }

func (e errTimeout) Timeout() bool   { return true }
func (e errTimeout) Temporary() bool { return true }
func (e errTimeout) Unwrap() error   { return e.error }
