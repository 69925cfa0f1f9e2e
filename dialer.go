package threeway

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Dialer holds the options of an active open, in the spirit of
// net.Dialer: the zero value of each field is the default. Set Stack;
// Stack.Dial and Stack.DialContext are short forms of a zero Dialer's.
type Dialer struct {
	Stack *Stack

	// LocalAddr is the address and port to connect from (bind before
	// connect); a zero address or port lets the stack choose. An address
	// the stack does not own is EADDRNOTAVAIL unless the stack was made
	// with Options.Spoofing: a transparent proxy answering as the
	// original server dials from the server's address.
	LocalAddr netip.AddrPort

	// Timeout bounds the handshake; Deadline is an absolute bound (the
	// stack clock's time). The earlier of the two and the context's wins.
	Timeout  time.Duration
	Deadline time.Time

	// SendBuffer and RecvBuffer, when positive, size the connection's
	// buffers (SO_SNDBUF, SO_RCVBUF); the receive buffer sets the window
	// and window scale the SYN offers.
	SendBuffer, RecvBuffer int

	// KeepAlive: positive turns keep-alive probes on with that idle time
	// and interval; zero keeps the stack's default (off, RFC 9293
	// MUST-25); negative turns them off. KeepAliveConfig, if Enable is
	// set, is used instead.
	KeepAlive       time.Duration
	KeepAliveConfig net.KeepAliveConfig

	// Nagle turns Nagle's algorithm on (SetNoDelay(false)); by default,
	// as in Go, segments are sent without delay.
	Nagle bool

	// Control, if set, is called with the new connection before its SYN
	// goes out, as net.Dialer's Control is called before connect(). An
	// error aborts the dial.
	Control func(network, address string, c *Conn) error

	// FastOpen makes the connect use TCP Fast Open (RFC 7413) the way
	// Linux's TCP_FASTOPEN_CONNECT does: Dial returns at once, and the
	// first Write rides in the SYN with the server's cached cookie (or
	// asks for a cookie when none is cached). With nothing written the
	// SYN goes without data after the stack's TCP.FastOpenConnectDelay.
	// A refused or failed connect is reported by the first Read or Write.
	FastOpen bool

	// CongestionControl, when set, chooses the connection's algorithm
	// (Linux's TCP_CONGESTION) over the stack's tcp.Config one.
	CongestionControl tcp.CCAlgorithm
}

// Dial connects to address ("ip:port") on network "tcp", "tcp4" or "tcp6".
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects, giving up when ctx is done: cancellation aborts the
// handshake. Errors are *net.OpError wrapping syscall.ECONNREFUSED,
// syscall.ETIMEDOUT and the like, as package net reports them.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.DialTCP(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialTCP is DialContext returning the concrete type.
func (d *Dialer) DialTCP(ctx context.Context, network, address string) (*Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	if !d.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Deadline)
		defer cancel()
	}
	c, err := d.Start(network, address)
	if err != nil {
		return nil, err
	}
	if d.FastOpen {
		// The handshake waits for the first write, which rides in it.
		return c, nil
	}
	if err := c.awaitEstablished(ctx, network); err != nil {
		return nil, err
	}
	return c, nil
}

// Start begins the active open and returns at once, with the connection
// in SYN-SENT and its SYN sent: a non-blocking connect(). Its State moves
// on as the handshake proceeds; SocketError reports why it failed.
func (d *Dialer) Start(network, address string) (*Conn, error) {
	s := d.Stack
	// The address in an error is built only when there is an error:
	// a successful dial allocates nothing for it.
	opErr := func(dst netip.AddrPort, err error) error {
		var a net.Addr
		if dst.IsValid() {
			a = net.TCPAddrFromAddrPort(dst)
		}
		return &net.OpError{Op: "dial", Net: network, Addr: a, Err: err}
	}
	dst, err := parseDialAddr(network, address)
	if err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	ip := dst.Addr()
	if dst.Port() == 0 || ip.IsUnspecified() || ip.IsMulticast() {
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL))
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, opErr(dst, net.ErrClosed)
	}
	c, err := d.openLocked(dst)
	if err != nil {
		s.mu.Unlock()
		return nil, opErr(dst, err)
	}
	s.mu.Unlock()
	if d.Control != nil {
		if err := d.Control(network, address, c); err != nil {
			c.do(func(now time.Duration) { c.tcb.Abort(now, &s.out) })
			return nil, opErr(dst, err)
		}
	}
	c.do(func(time.Duration) {}) // the first Poll sends the SYN
	return c, nil
}

// openLocked picks the local endpoint and files a connection in SYN-SENT
// whose SYN goes out on its first Poll, with the Dialer's options set.
func (d *Dialer) openLocked(dst netip.AddrPort) (*Conn, error) {
	s := d.Stack
	src, ok := s.sourceFor(dst.Addr())
	if !ok {
		return nil, os.NewSyscallError("connect", syscall.ENETUNREACH)
	}
	sport := d.LocalAddr.Port()
	if la := d.LocalAddr.Addr().Unmap(); la.IsValid() && !la.IsUnspecified() {
		if la.Is4() != dst.Addr().Is4() || !s.isLocal(la) && !s.transparent.spoofing {
			return nil, os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)
		}
		src = la
	}
	if sport != 0 && s.conns[tupleFor(src, sport, dst)] != nil {
		return nil, os.NewSyscallError("bind", syscall.EADDRINUSE)
	}
	if sport == 0 {
		if sport = s.pickPort(src, dst); sport == 0 {
			return nil, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)
		}
	}
	t := tupleFor(src, sport, dst)
	tcb := tcp.NewActive(s.env, t, s.now())
	// Before the first Poll, so the SYN already reflects them.
	tcb.SetBuffers(d.SendBuffer, d.RecvBuffer)
	if d.FastOpen {
		tcb.EnableFastOpen(s.now())
	}
	if d.CongestionControl != tcp.CCDefault {
		tcb.SetCongestionControl(d.CongestionControl)
	}
	tcb.SetNoDelay(!d.Nagle)
	switch ka := d.KeepAliveConfig; {
	case ka.Enable:
		tcb.SetKeepAlive(s.now(), true, ka.Idle, ka.Interval, ka.Count)
	case d.KeepAlive > 0:
		tcb.SetKeepAlive(s.now(), true, d.KeepAlive, d.KeepAlive, 0)
	}
	c := s.newConn(tcb, t)
	s.conns[t] = c
	s.refForeign(c)
	return c, nil
}

// parseDialAddr parses a dial target: an IP literal and port of the
// network's family.
func parseDialAddr(network, address string) (netip.AddrPort, error) {
	fam, err := family(network)
	if err != nil {
		return netip.AddrPort{}, err
	}
	h, port, err := splitAddr(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip, err := parseHost(h)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if err := checkFamily(ip, fam, address); err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, port), nil
}
