package threeway

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/wire"
)

// pingKey names an echo socket: its family and ICMP identifier.
type pingKey struct {
	v6 bool
	id uint16
}

// PingConn is an ICMP echo socket, like Linux's ping sockets (SOCK_DGRAM,
// IPPROTO_ICMP): writes are echo request messages (type, code, checksum,
// identifier, sequence, data), sent with the socket's identifier and a
// fresh checksum; reads are the echo replies to that identifier (RFC 792,
// RFC 4443 §4), header included.
type PingConn struct {
	s      *Stack
	key    pingKey
	local  netip.Addr // unspecified: any of the family's addresses
	remote netip.Addr // the peer of a connected socket, else invalid

	q udpQueue // guarded by the stack lock
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
	if !laddr.IsUnspecified() && !s.isLocal(laddr) {
		return nil, opErr(os.NewSyscallError("bind", syscall.EADDRNOTAVAIL))
	}
	if s.ping == nil {
		s.ping = make(map[pingKey]*PingConn)
	}
	// A random free identifier, as Linux picks the socket's "port".
	key := pingKey{v6: v6}
	for i := 0; ; i++ {
		if i == 1<<16 {
			return nil, opErr(os.NewSyscallError("bind", syscall.EADDRINUSE))
		}
		key.id = uint16(s.rng.Uint32())
		if s.ping[key] == nil && key.id != 0 {
			break
		}
	}
	c := &PingConn{s: s, key: key, local: laddr, remote: raddr, deadlines: deadlines{rwait: make(chan struct{}, 1)}}
	c.q.init(udpQueueBytes)
	s.ping[key] = c
	return c, nil
}

// ListenPing is DialPing with no peer.
func (s *Stack) ListenPing(network string, laddr netip.Addr) (*PingConn, error) {
	return s.DialPing(network, laddr, netip.Addr{})
}

// pingInput queues an echo reply for the socket its identifier names.
// Replies for no socket are ignored, as RFC 792 leaves them.
func (s *Stack) pingInput(src, dst netip.Addr, m wire.ICMP) {
	c := s.ping[pingKey{v6: !src.Is4(), id: uint16(m.RestOfHeader() >> 16)}]
	if c == nil || !c.local.IsUnspecified() && c.local != dst || c.remote.IsValid() && c.remote != src {
		return
	}
	if c.q.push(netip.AddrPortFrom(src, 0), m) {
		notify(c.rwait)
	}
}

// Identifier returns the ICMP identifier of the socket's echoes.
func (c *PingConn) Identifier() uint16 { return c.key.id }

// LocalAddress returns the bound address (unspecified: any).
func (c *PingConn) LocalAddress() netip.Addr { return c.local }

// RemoteAddress returns the connected peer, or an invalid Addr.
func (c *PingConn) RemoteAddress() netip.Addr { return c.remote }

func (c *PingConn) network() string {
	if c.key.v6 {
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
		n, from, ok := c.q.pop(p)
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
	if c.key.v6 {
		typ, ipLen = wire.ICMPv6EchoRequest, wire.IPv6HeaderLen
	}
	switch {
	case c.closed.Load():
		return 0, c.opError("write", net.ErrClosed)
	case expiredAt(s, &c.wdeadline):
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	case len(p) < wire.ICMPHeaderLen || p[0] != typ || p[1] != 0 || !dst.IsValid() || dst.Is4() == c.key.v6:
		return 0, c.opError("write", os.NewSyscallError("sendto", syscall.EINVAL))
	case ipLen+len(p) > s.link.MTU():
		return 0, c.opError("write", os.NewSyscallError("sendto", syscall.EMSGSIZE))
	}
	s.holdClock()
	defer s.releaseClock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, c.opError("write", net.ErrClosed)
	}
	src := c.local
	if src.IsUnspecified() {
		a, ok := s.sourceFor(dst)
		if !ok {
			return 0, c.opError("write", os.NewSyscallError("sendto", syscall.ENETUNREACH))
		}
		src = a
	}
	seq := uint32(p[6])<<8 | uint32(p[7])
	s.sendICMP(src, dst, typ, 0, uint32(c.key.id)<<16|seq, p[wire.ICMPHeaderLen:])
	s.writeBatch()
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
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	c.s.mu.Lock()
	if c.s.ping[c.key] == c {
		delete(c.s.ping, c.key)
	}
	c.s.mu.Unlock()
	notify(c.rwait)
	return nil
}
