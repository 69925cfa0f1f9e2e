package threeway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
)

// Dialer holds the options of an active open, in the spirit of
// net.Dialer: the zero value of each field is the default. Set Stack;
// Stack.Dial and Stack.DialContext are the short forms, a zero Dialer's.
//
// Networks are "tcp", "tcp4" and "tcp6", and "udp", "udp4" and "udp6" for
// a connected UDP socket (of the options, UDP uses LocalAddr, RecvBuffer
// and Control). The address is an IP literal and a port: the stack has no
// resolver. As with package net, the net.Conn returned is a *Conn for TCP
// and a *UDPConn for UDP:
//
//	c, err := d.Dial("tcp", "192.0.2.1:80")
//	...
//	tc := c.(*threeway.Conn) // SetLinger, Info, SocketError, ...
type Dialer struct {
	Stack *Stack

	// LocalAddr is the address and port to connect from (bind before
	// connect); a zero address or port lets the stack choose. For TCP, an
	// address the stack does not own is EADDRNOTAVAIL unless the stack was
	// made with Options.Spoofing: a transparent proxy answering as the
	// original server dials from the server's address. Two stacks
	// dialing each other from fixed ports at once perform a simultaneous
	// open (RFC 9293 §3.5).
	LocalAddr netip.AddrPort

	// Timeout bounds the handshake; Deadline is an absolute bound. Both
	// are read on the stack's clock, as Conn deadlines are, so on a
	// clock.Sim they pass in simulated time. The earliest of the two and
	// the context's wins; a timeout is a *net.OpError whose Timeout()
	// holds and that wraps context.DeadlineExceeded.
	Timeout  time.Duration
	Deadline time.Time

	// SendBuffer and RecvBuffer, when positive, size the connection's
	// buffers (SO_SNDBUF, SO_RCVBUF); the receive buffer sets the window
	// and window scale the SYN offers. A UDP socket takes RecvBuffer as
	// its SetReadBuffer.
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

	// Control, if set, is called with the new socket, a *Conn in
	// SYN-SENT whose SYN has not gone out or a *UDPConn, as
	// net.Dialer's Control is called before connect(). An error aborts
	// the dial.
	Control func(network, address string, c net.Conn) error

	// FastOpen makes the connect use TCP Fast Open (RFC 7413) the way
	// Linux's TCP_FASTOPEN_CONNECT does: Dial returns at once. With the
	// server's cookie cached, the first Write rides in the SYN (with
	// nothing written the SYN goes without data after the stack's
	// TCP.FastOpenConnectDelay); with none, the SYN goes at once and asks
	// for one. A refused or failed connect is reported by the first Read
	// or Write.
	FastOpen bool

	// Nonblock makes Dial return as soon as the SYN is sent, with the
	// connection in SYN-SENT, as connect() on an O_NONBLOCK socket
	// returns EINPROGRESS. The handshake goes on: Conn.State tells where
	// it is, Conn.SocketError (SO_ERROR) why it failed, and Read and
	// Write wait for it. Timeout and Deadline do not apply.
	Nonblock bool

	// CongestionControl, when set, chooses the connection's algorithm
	// (Linux's TCP_CONGESTION) over the stack's tcp.Config one.
	CongestionControl tcp.CCAlgorithm
}

var errNoStack = errors.New("threeway: Dialer.Stack is nil")

// Dial connects to address on the named network.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext connects, giving up when ctx is done: cancellation aborts
// the handshake. Errors are *net.OpError wrapping syscall.ECONNREFUSED,
// syscall.ETIMEDOUT and the like, as package net reports them; after
// Stack.Close, ErrStackClosed (net.ErrClosed).
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.Stack == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errNoStack}
	}
	if isUDPNetwork(network) {
		c, err := d.dialUDP(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := d.dialTCP(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (d *Dialer) dialTCP(ctx context.Context, network, address string) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: contextError(ctx)}
	}
	wait := !d.FastOpen && !d.Nonblock
	if wait {
		var stop func()
		ctx, stop = d.bound(ctx)
		defer stop()
		if ctx.Err() != nil { // the deadline has passed: no SYN
			return nil, &net.OpError{Op: "dial", Net: network, Err: contextError(ctx)}
		}
	}
	c, err := d.start(network, address)
	if err != nil || !wait {
		// With Fast Open the handshake waits for the first write, which
		// rides in it.
		return c, err
	}
	if err := c.awaitEstablished(ctx, network); err != nil {
		return nil, err
	}
	return c, nil
}

// bound ends ctx at the Dialer's Timeout or Deadline, whichever comes
// first, as the stack's clock tells time.
func (d *Dialer) bound(ctx context.Context) (context.Context, func()) {
	var left time.Duration
	switch {
	case d.Timeout <= 0 && d.Deadline.IsZero():
		return ctx, func() {}
	case d.Deadline.IsZero():
		left = d.Timeout
	default:
		left = d.Deadline.Sub(d.Stack.clk.Now())
		if d.Timeout > 0 {
			left = min(left, d.Timeout)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	if left <= 0 {
		cancel(context.DeadlineExceeded)
		return ctx, func() {}
	}
	t := d.Stack.clk.AfterFunc(left, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// start begins the active open and returns at once, with the connection
// in SYN-SENT and its SYN sent (or, with FastOpen and a cached cookie,
// waiting for the first write).
func (d *Dialer) start(network, address string) (*Conn, error) {
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
		return nil, opErr(dst, ErrStackClosed)
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

// openLocked files a connection in SYN-SENT in the host, from the
// Dialer's local address (the host picks what is left open), with the
// Dialer's options set on it before its first Poll sends the SYN.
func (d *Dialer) openLocked(dst netip.AddrPort) (*Conn, error) {
	s := d.Stack
	local := d.LocalAddr
	if la := local.Addr().Unmap(); la.IsValid() && !la.IsUnspecified() {
		local = netip.AddrPortFrom(la, local.Port())
	} else {
		local = netip.AddrPortFrom(netip.Addr{}, local.Port())
	}
	hc, err := s.host.Open(s.now(), local, dst)
	switch err {
	case nil:
	case syscall.ENETUNREACH:
		return nil, os.NewSyscallError("connect", syscall.ENETUNREACH)
	case host.ErrAddrNotOurs:
		return nil, os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)
	case host.ErrAddrInUse:
		return nil, os.NewSyscallError("bind", syscall.EADDRINUSE)
	case host.ErrNoFreePort:
		return nil, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)
	default:
		return nil, err
	}
	tcb := hc.TCB()
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
	return s.wrap(hc), nil
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

// dialUDP opens a connected UDP socket from LocalAddr.
func (d *Dialer) dialUDP(ctx context.Context, network, address string) (*UDPConn, error) {
	local := ""
	if la := d.LocalAddr; la.Addr().IsValid() || la.Port() != 0 {
		host := ""
		if la.Addr().IsValid() {
			host = la.Addr().String()
		}
		local = net.JoinHostPort(host, strconv.Itoa(int(la.Port())))
	}
	c, err := d.Stack.dialUDP(ctx, network, local, address)
	if err != nil {
		return nil, err
	}
	if d.RecvBuffer > 0 {
		c.SetReadBuffer(d.RecvBuffer)
	}
	if d.Control != nil {
		if err := d.Control(network, address, c); err != nil {
			c.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
		}
	}
	return c, nil
}
