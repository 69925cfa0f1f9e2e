package threeway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

func tupleFor(src netip.Addr, sport uint16, dst netip.AddrPort) tcp.Tuple {
	return tcp.Tuple{LocalAddr: src, RemoteAddr: dst.Addr(), LocalPort: sport, RemotePort: dst.Port()}
}

// Dial connects to address ("ip:port") on network "tcp", "tcp4" or "tcp6"
// (Dialer.Dial with the zero options), or opens a connected UDP socket on
// "udp", "udp4" or "udp6".
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext is Dialer.DialContext with the zero options.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if isUDPNetwork(network) {
		return s.DialUDP(ctx, network, address)
	}
	c, err := s.DialTCP(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialTCP is DialContext returning the concrete type.
func (s *Stack) DialTCP(ctx context.Context, network, address string) (*Conn, error) {
	return (&Dialer{Stack: s}).DialTCP(ctx, network, address)
}

// DialFrom is DialTCP from a chosen local address ("ip:port"; an empty
// host or port 0 lets the stack choose): Dialer with LocalAddr. Two
// stacks dialing each other from fixed ports at once perform a
// simultaneous open (RFC 9293 §3.5).
func (s *Stack) DialFrom(ctx context.Context, network, localAddress, address string) (*Conn, error) {
	d := &Dialer{Stack: s}
	if localAddress != "" {
		la, err := parseLocalAddr(localAddress)
		if err != nil {
			return nil, dialError(network, address, err)
		}
		d.LocalAddr = la
	}
	return d.DialTCP(ctx, network, address)
}

func dialError(network, address string, err error) error {
	return &net.OpError{Op: "dial", Net: network, Err: err}
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
		st, cerr := c.tcb.State(), c.tcb.Err()
		s.mu.Unlock()
		switch {
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
			return opErr(net.ErrClosed)
		case <-ctx.Done():
			c.do(func(now time.Duration) { c.tcb.Abort(now, &s.out) })
			err := ctx.Err()
			if errors.Is(err, context.DeadlineExceeded) {
				err = errTimeout{err}
			}
			return opErr(err)
		}
	}
}

// errTimeout marks a context deadline as a timeout, as package net does.
type errTimeout struct{ error }

func (e errTimeout) Timeout() bool   { return true }
func (e errTimeout) Temporary() bool { return true }
func (e errTimeout) Unwrap() error   { return e.error }
