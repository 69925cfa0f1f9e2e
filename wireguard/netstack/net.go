package netstack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/threeway-tcp/threeway"
)

// DialContextTCPAddrPort connects to addr over TCP inside the tunnel.
func (n *Net) DialContextTCPAddrPort(ctx context.Context, addr netip.AddrPort) (*threeway.Conn, error) {
	c, err := n.stack.DialContext(ctx, tcpNetwork(addr.Addr()), addr.String())
	if err != nil {
		return nil, err
	}
	return c.(*threeway.Conn), nil
}

// DialContextTCP is DialContextTCPAddrPort with a *net.TCPAddr.
func (n *Net) DialContextTCP(ctx context.Context, addr *net.TCPAddr) (*threeway.Conn, error) {
	if addr == nil {
		return n.DialContextTCPAddrPort(ctx, netip.AddrPort{})
	}
	return n.DialContextTCPAddrPort(ctx, addr.AddrPort())
}

// DialTCPAddrPort is DialContextTCPAddrPort without a context.
func (n *Net) DialTCPAddrPort(addr netip.AddrPort) (*threeway.Conn, error) {
	return n.DialContextTCPAddrPort(context.Background(), addr)
}

// DialTCP is DialContextTCP without a context.
func (n *Net) DialTCP(addr *net.TCPAddr) (*threeway.Conn, error) {
	return n.DialContextTCP(context.Background(), addr)
}

// ListenTCPAddrPort listens for TCP connections on addr; an invalid or
// unspecified address listens on every address of the tunnel.
func (n *Net) ListenTCPAddrPort(addr netip.AddrPort) (*threeway.Listener, error) {
	l, err := n.stack.Listen(tcpNetwork(addr.Addr()), listenAddr(addr))
	if err != nil {
		return nil, err
	}
	return l.(*threeway.Listener), nil
}

// ListenTCP is ListenTCPAddrPort with a *net.TCPAddr (nil: any address,
// an ephemeral port).
func (n *Net) ListenTCP(addr *net.TCPAddr) (*threeway.Listener, error) {
	if addr == nil {
		return n.ListenTCPAddrPort(netip.AddrPort{})
	}
	return n.ListenTCPAddrPort(addr.AddrPort())
}

// DialUDPAddrPort opens a UDP socket on laddr (invalid: the stack
// chooses) connected to raddr; with an invalid raddr it is unconnected.
func (n *Net) DialUDPAddrPort(laddr, raddr netip.AddrPort) (*threeway.UDPConn, error) {
	if !raddr.IsValid() {
		return n.ListenUDPAddrPort(laddr)
	}
	d := &threeway.Dialer{Stack: n.stack, LocalAddr: laddr}
	c, err := d.Dial(udpNetwork(raddr.Addr()), raddr.String())
	if err != nil {
		return nil, err
	}
	return c.(*threeway.UDPConn), nil
}

// ListenUDPAddrPort opens an unconnected UDP socket on laddr.
func (n *Net) ListenUDPAddrPort(laddr netip.AddrPort) (*threeway.UDPConn, error) {
	c, err := n.stack.ListenPacket(udpNetwork(laddr.Addr()), listenAddr(laddr))
	if err != nil {
		return nil, err
	}
	return c.(*threeway.UDPConn), nil
}

// DialUDP is DialUDPAddrPort with *net.UDPAddrs, either of which may be
// nil.
func (n *Net) DialUDP(laddr, raddr *net.UDPAddr) (*threeway.UDPConn, error) {
	var la, ra netip.AddrPort
	if laddr != nil {
		la = laddr.AddrPort()
	}
	if raddr != nil {
		ra = raddr.AddrPort()
	}
	return n.DialUDPAddrPort(la, ra)
}

// ListenUDP is ListenUDPAddrPort with a *net.UDPAddr (nil: any address,
// an ephemeral port).
func (n *Net) ListenUDP(laddr *net.UDPAddr) (*threeway.UDPConn, error) {
	if laddr == nil {
		return n.ListenUDPAddrPort(netip.AddrPort{})
	}
	return n.ListenUDPAddrPort(laddr.AddrPort())
}

// Dial is DialContext without a context.
func (n *Net) Dial(network, address string) (net.Conn, error) {
	return n.DialContext(context.Background(), network, address)
}

// DialContext connects to address ("host:port") on network "tcp", "udp"
// or their "4"/"6" forms, or opens a ping socket to address (a host) on
// "ping", "ping4" or "ping6". A host name is resolved through the tunnel's
// DNS servers, and each address tried in turn, IPv6 first when the
// tunnel has IPv6, sharing the context's time between them.
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	proto, fam := network, 0
	if k := len(network); k > 0 && (network[k-1] == '4' || network[k-1] == '6') {
		proto, fam = network[:k-1], int(network[k-1]-'0')
	}
	if proto != "tcp" && proto != "udp" && proto != "ping" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, port := address, uint64(0)
	if proto != "ping" {
		h, sport, err := net.SplitHostPort(address)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		if port, err = strconv.ParseUint(sport, 10, 16); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.AddrError{Err: "invalid port", Addr: address}}
		}
		host = h
	}
	names, err := n.LookupContextHost(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var addrs []netip.AddrPort
	for _, s := range names {
		a, err := netip.ParseAddr(s)
		if err == nil && (fam == 0 || fam == 4 && a.Is4() || fam == 6 && !a.Is4()) {
			addrs = append(addrs, netip.AddrPortFrom(a.Unmap(), uint16(port)))
		}
	}
	if len(addrs) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.AddrError{Err: "no suitable address found", Addr: host}}
	}
	var firstErr error
	for i, a := range addrs {
		if err := ctx.Err(); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		dctx, cancel := shareDeadline(ctx, len(addrs)-i)
		var c net.Conn
		switch proto {
		case "tcp":
			c, err = n.DialContextTCPAddrPort(dctx, a)
		case "udp":
			c, err = n.DialUDPAddrPort(netip.AddrPort{}, a)
		default:
			c, err = n.DialPingAddr(netip.Addr{}, a.Addr())
		}
		cancel()
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// shareDeadline gives one of left remaining attempts its share of ctx's
// time, at least two seconds when there is that much, as package net does.
func shareDeadline(ctx context.Context, left int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || left <= 1 {
		return ctx, func() {}
	}
	remaining := time.Until(deadline)
	share := max(remaining/time.Duration(left), min(2*time.Second, remaining))
	return context.WithTimeout(ctx, share)
}

func tcpNetwork(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "tcp"
	case a.Unmap().Is4():
		return "tcp4"
	}
	return "tcp6"
}

func udpNetwork(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "udp"
	case a.Unmap().Is4():
		return "udp4"
	}
	return "udp6"
}

// listenAddr renders addr for the stack's Listen calls: an invalid
// address means every address.
func listenAddr(addr netip.AddrPort) string {
	if !addr.Addr().IsValid() {
		return net.JoinHostPort("", strconv.Itoa(int(addr.Port())))
	}
	return netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()).String()
}

var errNoDNS = errors.New("netstack: no DNS server configured")
