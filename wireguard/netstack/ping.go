package netstack

import (
	"errors"
	"net"
	"net/netip"

	"github.com/threeway-tcp/threeway"
)

// PingAddr is the address of a ping socket's end, as in wireguard-go.
type PingAddr struct{ addr netip.Addr }

// PingAddrFromAddr wraps addr.
func PingAddrFromAddr(addr netip.Addr) *PingAddr { return &PingAddr{addr} }

func (a PingAddr) String() string { return a.addr.String() }

// Network is "ping4" or "ping6".
func (a PingAddr) Network() string {
	switch {
	case a.addr.Is4():
		return "ping4"
	case a.addr.Is6():
		return "ping6"
	}
	return "ping"
}

// Addr returns the address.
func (a PingAddr) Addr() netip.Addr { return a.addr }

// PingConn is an ICMP echo socket inside the tunnel: writes are echo
// request messages, reads the echo replies (header included).
type PingConn struct {
	*threeway.PingConn
	laddr, raddr PingAddr
}

// DialPingAddr opens a ping socket on laddr (invalid: any address of
// raddr's family), connected to raddr if it is valid.
func (n *Net) DialPingAddr(laddr, raddr netip.Addr) (*PingConn, error) {
	if !laddr.IsValid() && !raddr.IsValid() {
		return nil, errors.New("ping dial: invalid address")
	}
	network := "ping4"
	if laddr.Is6() && !laddr.Is4In6() || raddr.Is6() && !raddr.Is4In6() {
		network = "ping6"
	}
	c, err := n.stack.DialPing(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	return &PingConn{PingConn: c, laddr: PingAddr{c.LocalAddress()}, raddr: PingAddr{raddr}}, nil
}

// ListenPingAddr opens an unconnected ping socket on laddr.
func (n *Net) ListenPingAddr(laddr netip.Addr) (*PingConn, error) {
	return n.DialPingAddr(laddr, netip.Addr{})
}

// DialPing is DialPingAddr with *PingAddrs, either of which may be nil.
func (n *Net) DialPing(laddr, raddr *PingAddr) (*PingConn, error) {
	var la, ra netip.Addr
	if laddr != nil {
		la = laddr.addr
	}
	if raddr != nil {
		ra = raddr.addr
	}
	return n.DialPingAddr(la, ra)
}

// ListenPing is ListenPingAddr with a *PingAddr.
func (n *Net) ListenPing(laddr *PingAddr) (*PingConn, error) {
	var la netip.Addr
	if laddr != nil {
		la = laddr.addr
	}
	return n.ListenPingAddr(la)
}

// LocalAddr returns the bound address as a PingAddr.
func (pc *PingConn) LocalAddr() net.Addr { return pc.laddr }

// RemoteAddr returns the connected peer as a PingAddr.
func (pc *PingConn) RemoteAddr() net.Addr { return pc.raddr }

// WriteTo sends the echo request p to addr, a *PingAddr or *net.IPAddr.
func (pc *PingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	var a netip.Addr
	switch v := addr.(type) {
	case *PingAddr:
		a = v.addr
	case PingAddr:
		a = v.addr
	case *net.IPAddr:
		a, _ = netip.AddrFromSlice(v.IP)
	default:
		return 0, errors.New("ping write: wrong net.Addr type")
	}
	return pc.WriteToAddr(p, a)
}

// ReadFrom reads one echo reply and returns its sender as a *PingAddr.
func (pc *PingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := pc.ReadFromAddr(p)
	if err != nil {
		return n, nil, err
	}
	return n, &PingAddr{from}, nil
}

var _ net.PacketConn = (*PingConn)(nil)
var _ net.Conn = (*PingConn)(nil)
