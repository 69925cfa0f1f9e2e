package threeway

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
)

// UDPConn is a UDP socket on a Stack. It implements net.PacketConn and,
// once connected (by Dial), net.Conn, plus the *net.UDPConn methods
// programs use: ReadFromUDP, ReadFromUDPAddrPort, WriteToUDP,
// WriteToUDPAddrPort, SetReadBuffer.
type UDPConn struct {
	s       *Stack
	hs      *host.Socket // its queue and error are guarded by the stack lock
	network string
	key     host.Key       // the binding; unset for a forwarded flow
	local   netip.AddrPort // as LocalAddr reports it
	remote  netip.AddrPort // the peer of a connected socket, else invalid
	flow    *udpFlow       // set for a forwarded flow

	deadlines
	rtimer clock.Timer // guarded by readMu
	readMu sync.Mutex
	closed atomic.Bool
}

var (
	_ net.PacketConn = (*UDPConn)(nil)
	_ net.Conn       = (*UDPConn)(nil)
)

// wrapUDP makes the runtime's UDPConn for a host socket.
func (s *Stack) wrapUDP(network string, hs *host.Socket) *UDPConn {
	c := &UDPConn{s: s, hs: hs, network: network, key: hs.Key(), local: hs.Local(), remote: hs.Remote(),
		deadlines: deadlines{done: s.done, rwait: make(chan struct{}, 1)}}
	hs.User = c
	return c
}

// ListenPacket opens a UDP socket on network "udp", "udp4" or "udp6";
// address is "host:port" with an IP literal or empty host, port 0 picking
// an ephemeral port. As with package net, the net.PacketConn is a
// *UDPConn (ListenUDP returns it as such). After Stack.Close the error
// wraps ErrStackClosed.
func (s *Stack) ListenPacket(network, address string) (net.PacketConn, error) {
	return s.listenUDP(network, address)
}

// listenUDP is ListenPacket returning the concrete type.
func (s *Stack) listenUDP(network, address string) (*UDPConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "listen", Net: network, Err: err} }
	_, tcpName, err := udpNetwork(network)
	if err != nil {
		return nil, opErr(err)
	}
	ap, err := parseListenAddr(tcpName, address)
	if err != nil {
		return nil, opErr(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(ErrStackClosed)
	}
	hs, err := s.host.BindUDP(ap.Addr(), ap.Port(), netip.AddrPort{})
	if err != nil {
		return nil, opErr(bindError(err, address))
	}
	return s.wrapUDP(network, hs), nil
}

// dialUDP opens a connected UDP socket to address ("ip:port") from
// localAddress ("ip:port"; empty, an empty host or port 0 lets the stack
// choose): it sends to and hears from that peer only, and reports ICMP
// errors from it (port unreachable: ECONNREFUSED) on its next read or
// write. Nothing is sent until the first write. Dialer dials UDP with it.
func (s *Stack) dialUDP(ctx context.Context, network, localAddress, address string) (*UDPConn, error) {
	opErr := func(dst netip.AddrPort, err error) error {
		var a net.Addr
		if dst.IsValid() {
			a = net.UDPAddrFromAddrPort(dst)
		}
		return &net.OpError{Op: "dial", Net: network, Addr: a, Err: err}
	}
	fam, _, err := udpNetwork(network)
	if err != nil {
		return nil, opErr(netip.AddrPort{}, err)
	}
	if err := ctx.Err(); err != nil {
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
	if port == 0 || ip.IsUnspecified() {
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(dst, ErrStackClosed)
	}
	src, ok := s.sourceFor(ip)
	if !ok {
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.ENETUNREACH))
	}
	var sport uint16
	if localAddress != "" {
		lh, lp, err := splitAddr(localAddress)
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
	}
	hs, err := s.host.BindUDP(src, sport, dst)
	switch err {
	case nil:
	case host.ErrNoFreePort:
		return nil, opErr(dst, os.NewSyscallError("connect", syscall.EADDRNOTAVAIL))
	default:
		return nil, opErr(dst, bindError(err, localAddress))
	}
	return s.wrapUDP(network, hs), nil
}

// LocalAddr returns the local endpoint as a *net.UDPAddr. A forwarded
// flow's is the destination its client sent to.
func (c *UDPConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.local) }

// RemoteAddr returns the peer of a connected socket as a *net.UDPAddr,
// or nil.
func (c *UDPConn) RemoteAddr() net.Addr {
	if !c.remote.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(c.remote)
}

func (c *UDPConn) opError(op string, addr netip.AddrPort, err error) error {
	var a net.Addr
	if addr.IsValid() {
		a = net.UDPAddrFromAddrPort(addr)
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.LocalAddr(), Addr: a, Err: err}
}

// ReadFromUDPAddrPort reads one datagram into p (the rest of a longer one
// is discarded, as recvfrom does) and returns its sender. It allocates
// nothing.
func (c *UDPConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	s := c.s
	for {
		if c.closed.Load() {
			return 0, netip.AddrPort{}, c.opError("read", c.remote, net.ErrClosed)
		}
		if expiredAt(s, &c.rdeadline) {
			return 0, netip.AddrPort{}, c.opError("read", c.remote, os.ErrDeadlineExceeded)
		}
		s.mu.Lock()
		e := c.hs.TakeErr()
		n, from, ok := c.hs.Pop(p)
		idle := c.hs.Idle()
		s.mu.Unlock()
		switch {
		case e != 0:
			return 0, netip.AddrPort{}, c.opError("read", c.remote, os.NewSyscallError("recvfrom", e))
		case ok:
			return n, from, nil
		case idle:
			return 0, netip.AddrPort{}, c.opError("read", c.remote, ErrFlowIdle)
		}
		select {
		case <-s.done:
			return 0, netip.AddrPort{}, c.opError("read", c.remote, net.ErrClosed)
		default:
		}
		if !waitSignal(s, c.rwait, &c.rdeadline, &c.rtimer) {
			return 0, netip.AddrPort{}, c.opError("read", c.remote, os.ErrDeadlineExceeded)
		}
	}
}

// ReadFromUDP is ReadFromUDPAddrPort returning a *net.UDPAddr.
func (c *UDPConn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	n, from, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFrom implements net.PacketConn.
func (c *UDPConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// Read reads one datagram (net.Conn, for a connected socket).
func (c *UDPConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFromUDPAddrPort(p)
	return n, err
}

// WriteToUDPAddrPort sends p as one datagram to addr. It does not wait:
// UDP has no send buffer to fill.
func (c *UDPConn) WriteToUDPAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if c.remote.IsValid() {
		return 0, c.opError("write", addr, net.ErrWriteToConnected)
	}
	return c.writeTo(p, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()))
}

// WriteToUDP is WriteToUDPAddrPort with a *net.UDPAddr.
func (c *UDPConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return 0, c.opError("write", netip.AddrPort{}, &net.AddrError{Err: "missing address"})
	}
	return c.WriteToUDPAddrPort(p, addr.AddrPort())
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (c *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, c.opError("write", netip.AddrPort{}, &net.AddrError{Err: "unsupported address type", Addr: addrString(addr)})
	}
	return c.WriteToUDP(p, a)
}

func addrString(a net.Addr) string {
	if a == nil {
		return "<nil>"
	}
	return a.String()
}

// Write sends p to the peer of a connected socket (net.Conn).
func (c *UDPConn) Write(p []byte) (int, error) {
	if !c.remote.IsValid() {
		return 0, c.opError("write", netip.AddrPort{}, os.NewSyscallError("write", syscall.EDESTADDRREQ))
	}
	return c.writeTo(p, c.remote)
}

func (c *UDPConn) writeTo(p []byte, dst netip.AddrPort) (int, error) {
	s := c.s
	if c.closed.Load() {
		return 0, c.opError("write", dst, net.ErrClosed)
	}
	if expiredAt(s, &c.wdeadline) {
		return 0, c.opError("write", dst, os.ErrDeadlineExceeded)
	}
	if dst.Port() == 0 || !dst.Addr().IsValid() || dst.Addr().IsUnspecified() {
		return 0, c.opError("write", dst, os.NewSyscallError("sendto", syscall.EINVAL))
	}
	src := c.local
	if c.flow == nil {
		la := c.local.Addr()
		switch {
		case la.IsUnspecified() && (la.Is4() == dst.Addr().Is4() || !c.key.Addr.IsValid()):
			src = netip.AddrPortFrom(netip.Addr{}, c.local.Port()) // the stack chooses
		case la.Is4() != dst.Addr().Is4():
			return 0, c.opError("write", dst, os.NewSyscallError("sendto", syscall.EAFNOSUPPORT))
		}
	}
	if err := s.sendUDP(c, src, dst, p); err == host.ErrFlowIdle {
		return 0, c.opError("write", dst, ErrFlowIdle)
	} else if err != nil {
		return 0, c.opError("write", dst, err)
	}
	return len(p), nil
}

// Close closes the socket; a blocked read returns net.ErrClosed.
func (c *UDPConn) Close() error {
	if c.closed.Swap(true) || c.s.isClosed() {
		return c.opError("close", c.remote, net.ErrClosed)
	}
	s := c.s
	s.mu.Lock()
	if c.flow != nil {
		c.flow.stop()
	}
	s.host.CloseSocket(c.hs)
	s.handleEvents()
	s.mu.Unlock()
	notify(c.rwait)
	return nil
}

// SetReadBuffer bounds the receive queue to n bytes (SO_RCVBUF); at least
// one datagram is always taken.
func (c *UDPConn) SetReadBuffer(n int) error {
	if c.s.isClosed() {
		return c.opError("set", c.remote, net.ErrClosed)
	}
	c.s.mu.Lock()
	c.hs.SetReadBuffer(n)
	c.s.mu.Unlock()
	return nil
}

// SetWriteBuffer is accepted for compatibility: sends are not buffered.
func (c *UDPConn) SetWriteBuffer(int) error { return nil }

// expiredAt reports whether the deadline in dl has passed on s's clock.
func expiredAt(s *Stack, dl *atomic.Int64) bool {
	d := dl.Load()
	return d != 0 && !s.clk.Now().Before(time.Unix(0, d))
}

// waitSignal blocks until ch is signalled (true), the deadline in dl
// passes (false), or the stack closes. *tp is the deadline timer, made on
// first use and reset afterwards, so waiting does not allocate.
func waitSignal(s *Stack, ch chan struct{}, dl *atomic.Int64, tp *clock.Timer) bool {
	d := dl.Load()
	if d != 0 {
		left := time.Unix(0, d).Sub(s.clk.Now())
		if left <= 0 {
			return false
		}
		if *tp == nil {
			*tp = s.clk.AfterFunc(left, func() { notify(ch) })
		} else {
			(*tp).Reset(left)
		}
	}
	select {
	case <-ch:
	case <-s.done:
	}
	if d != 0 {
		(*tp).Stop()
	}
	return true
}
