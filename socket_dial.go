package threeway

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/threeway-tcp/threeway/tcp"
)

// DialOptions are the socket options of a connection that must be set
// before its SYN goes out, as a sockets program sets them between
// socket() and connect().
type DialOptions struct {
	// LocalAddress is the local "ip:port" to connect from (bind before
	// connect); an empty host or port 0 lets the stack choose.
	LocalAddress string
	// SendBuffer and RecvBuffer, when positive, size the connection's
	// buffers (SO_SNDBUF, SO_RCVBUF). The receive buffer sets the
	// window and window scale the SYN offers.
	SendBuffer, RecvBuffer int
	// CongestionControl, when set, chooses the connection's algorithm
	// (Linux's TCP_CONGESTION) over the stack's tcp.Config one.
	CongestionControl tcp.CCAlgorithm
}

// StartDial begins an active open and returns at once, with the
// connection in SYN-SENT and its SYN sent: a non-blocking connect(). Its
// State moves on as the handshake proceeds; SocketError reports why it
// failed (ECONNREFUSED, ETIMEDOUT, ...).
func (s *Stack) StartDial(network, address string, opts DialOptions) (*Conn, error) {
	// The address in an error is built only when there is an error:
	// a successful dial allocates nothing for it.
	opErr := func(dst netip.AddrPort, err error) error {
		var a net.Addr
		if dst.IsValid() {
			a = net.TCPAddrFromAddrPort(dst)
		}
		return &net.OpError{Op: "dial", Net: network, Addr: a, Err: err}
	}
	fam, err := family(network)
	if err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	h, port, err := splitAddr(address)
	if err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	ip, err := parseHost(h)
	if err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	if err := checkFamily(ip, fam, address); err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	dst := netip.AddrPortFrom(ip, port)
	if port == 0 || ip.IsUnspecified() || ip.IsMulticast() {
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(dst, net.ErrClosed)
	}
	src, ok := s.sourceFor(ip)
	if !ok {
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.ENETUNREACH))
	}
	var sport uint16
	if opts.LocalAddress != "" {
		lh, lp, err := splitAddr(opts.LocalAddress)
		if err != nil {
			return nil, opErr(dst, err)
		}
		if lh != "" {
			la, err := parseHost(lh)
			if err != nil {
				return nil, opErr(dst, err)
			}
			if !la.IsUnspecified() {
				if !s.isLocal(la) || la.Is4() != ip.Is4() {
					return nil, opErr(dst, os.NewSyscallError("bind", syscall.EADDRNOTAVAIL))
				}
				src = la
			}
		}
		sport = lp
		if sport != 0 && s.conns[tupleFor(src, sport, dst)] != nil {
			return nil, opErr(dst, os.NewSyscallError("bind", syscall.EADDRINUSE))
		}
	}
	if sport == 0 {
		if sport = s.pickPort(src, dst); sport == 0 {
			return nil, opErr(dst, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL))
		}
	}
	t := tupleFor(src, sport, dst)
	now := s.now()
	c := s.newConn(tcp.NewActive(s.env, t, now), t)
	// Before the first Poll, so the SYN already reflects the buffers.
	c.tcb.SetBuffers(opts.SendBuffer, opts.RecvBuffer)
	if opts.CongestionControl != tcp.CCDefault {
		c.tcb.SetCongestionControl(opts.CongestionControl)
	}
	s.conns[t] = c
	s.markDirty(c)
	s.flushLocked(now)
	return c, nil
}

// SocketError returns the error that ended the connection (SO_ERROR):
// ECONNREFUSED, ECONNRESET, ETIMEDOUT and the like, as a syscall.Errno,
// or nil while it has none.
func (c *Conn) SocketError() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.Err()
}
