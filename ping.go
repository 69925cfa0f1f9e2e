package threeway

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/wire"
)

// PingConn is an ICMP echo socket, like Linux's ping sockets (SOCK_DGRAM,
// IPPROTO_ICMP): writes are echo request messages (type, code, checksum,
// identifier, sequence, data), sent with the socket's identifier and a
// fresh checksum; reads are the echo replies to that identifier (RFC 792,
// RFC 4443 §4), header included.
type PingConn struct {
	s      *Stack
	hs     *host.Socket // its queue is guarded by the stack lock
	v6     bool
	local  netip.Addr // unspecified: any of the family's addresses
	remote netip.Addr // the peer of a connected socket, else invalid

	deadlines
	rtimer clock.Timer // guarded by readMu
	readMu sync.Mutex
	closed atomic.Bool
}

// DialPing opens an echo socket on network "ping4" or "ping6", bound to
// laddr (invalid or unspecified: any address) and, if raddr is valid,
// connected to it.
func (s *Stack) DialPing(network string, laddr, raddr netip.Addr) (*PingConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: network, Err: err} }
	var v6 bool
	switch network {
	case "ping4":
	case "ping6":
		v6 = true
	default:
		return nil, opErr(net.UnknownNetworkError(network))
	}
	laddr, raddr = laddr.Unmap(), raddr.Unmap()
	if !laddr.IsValid() {
		laddr = netip.IPv4Unspecified()
		if v6 {
			laddr = netip.IPv6Unspecified()
		}
	}
	if laddr.Is4() == v6 || raddr.IsValid() && raddr.Is4() == v6 {
		return nil, opErr(&net.AddrError{Err: "address family mismatch", Addr: laddr.String()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(ErrStackClosed)
	}
	hs, err := s.host.OpenPing(v6, laddr, raddr)
	if err != nil {
		return nil, opErr(os.NewSyscallError("bind", err))
	}
	c := &PingConn{s: s, hs: hs, v6: v6, local: laddr, remote: raddr, deadlines: deadlines{done: s.done, rwait: make(chan struct{}, 1)}}
	hs.User = c
	return c, nil
}

// ListenPing is DialPing with no peer.
func (s *Stack) ListenPing(network string, laddr netip.Addr) (*PingConn, error) {
	return s.DialPing(network, laddr, netip.Addr{})
}

// Identifier returns the ICMP identifier of the socket's echoes.
func (c *PingConn) Identifier() uint16 { return c.hs.Identifier() }

// LocalAddress returns the bound address (unspecified: any).
func (c *PingConn) LocalAddress() netip.Addr { return c.local }

// RemoteAddress returns the connected peer, or an invalid Addr.
func (c *PingConn) RemoteAddress() netip.Addr { return c.remote }

func (c *PingConn) network() string {
	if c.v6 {
		return "ping6"
	}
	return "ping4"
}

func (c *PingConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.network(), Err: err}
}

// ReadFromAddr reads one echo reply message into p and returns who sent it.
func (c *PingConn) ReadFromAddr(p []byte) (int, netip.Addr, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	s := c.s
	for {
		if c.closed.Load() {
			return 0, netip.Addr{}, c.opError("read", net.ErrClosed)
		}
		if expiredAt(s, &c.rdeadline) {
			return 0, netip.Addr{}, c.opError("read", os.ErrDeadlineExceeded)
		}
		s.mu.Lock()
		n, from, ok := c.hs.Pop(p)
		s.mu.Unlock()
		if ok {
			return n, from.Addr(), nil
		}
		select {
		case <-s.done:
			return 0, netip.Addr{}, c.opError("read", net.ErrClosed)
		default:
		}
		if !waitSignal(s, c.rwait, &c.rdeadline, &c.rtimer) {
			return 0, netip.Addr{}, c.opError("read", os.ErrDeadlineExceeded)
		}
	}
}

// Read reads one echo reply message.
func (c *PingConn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFromAddr(p)
	return n, err
}

// WriteToAddr sends the echo request message p to dst.
func (c *PingConn) WriteToAddr(p []byte, dst netip.Addr) (int, error) {
	s := c.s
	dst = dst.Unmap()
	typ := uint8(wire.ICMPv4EchoRequest)
	ipLen := wire.IPv4HeaderLen
	if c.v6 {
		typ, ipLen = wire.ICMPv6EchoRequest, wire.IPv6HeaderLen
	}
	switch {
	case c.closed.Load():
		return 0, c.opError("write", net.ErrClosed)
	case expiredAt(s, &c.wdeadline):
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	case len(p) < wire.ICMPHeaderLen || p[0] != typ || p[1] != 0 || !dst.IsValid() || dst.Is4() == c.v6:
		return 0, c.opError("write", os.NewSyscallError("sendto", syscall.EINVAL))
	case ipLen+len(p) > s.host.MTU():
		return 0, c.opError("write", os.NewSyscallError("sendto", syscall.EMSGSIZE))
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, c.opError("write", net.ErrClosed)
	}
	err := s.host.SendEcho(c.hs, dst, p)
	s.queueOutput()
	s.unlock()
	if err != nil {
		return 0, c.opError("write", os.NewSyscallError("sendto", err))
	}
	return len(p), nil
}

// Write sends the echo request message p to the connected peer.
func (c *PingConn) Write(p []byte) (int, error) {
	if !c.remote.IsValid() {
		return 0, c.opError("write", os.NewSyscallError("write", syscall.EDESTADDRREQ))
	}
	return c.WriteToAddr(p, c.remote)
}

// Close closes the socket; a blocked read returns net.ErrClosed.
func (c *PingConn) Close() error {
	if c.closed.Swap(true) || c.s.isClosed() {
		return c.opError("close", net.ErrClosed)
	}
	c.s.mu.Lock()
	c.s.host.CloseSocket(c.hs)
	c.s.mu.Unlock()
	notify(c.rwait)
	return nil
}
