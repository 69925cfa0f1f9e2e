package threeway

import (
	"context"
	"errors"
	"net"
	"strconv"
)

// The entry points named after package net's functions have their
// signatures, so a program written against net moves to a Stack by
// changing the receiver.

// ListenTCP is net.ListenTCP on the stack: network is "tcp", "tcp4" or
// "tcp6"; a nil laddr, or one with a nil IP, listens on every address of
// the network's family, port 0 on an ephemeral port.
func (s *Stack) ListenTCP(network string, laddr *net.TCPAddr) (*Listener, error) {
	var a string
	if laddr != nil {
		a = hostPort(laddr.IP, laddr.Zone, laddr.Port)
	} else {
		a = ":0"
	}
	return s.listen(network, a)
}

// ListenUDP is net.ListenUDP on the stack: network is "udp", "udp4" or
// "udp6"; a nil laddr, or one with a nil IP, binds every address of the
// network's family, port 0 an ephemeral port.
func (s *Stack) ListenUDP(network string, laddr *net.UDPAddr) (*UDPConn, error) {
	var a string
	if laddr != nil {
		a = hostPort(laddr.IP, laddr.Zone, laddr.Port)
	} else {
		a = ":0"
	}
	return s.listenUDP(network, a)
}

var errMissingAddress = errors.New("missing address")

// DialUDP is net.DialUDP on the stack: a UDP socket on network "udp",
// "udp4" or "udp6" connected to raddr, bound to laddr (nil, a nil IP or
// port 0: the stack chooses). Dialer dials UDP with a context.
func (s *Stack) DialUDP(network string, laddr, raddr *net.UDPAddr) (*UDPConn, error) {
	if raddr == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Source: udpAddrOrNil(laddr), Err: errMissingAddress}
	}
	local := ""
	if laddr != nil {
		local = hostPort(laddr.IP, laddr.Zone, laddr.Port)
	}
	return s.dialUDP(context.Background(), network, local, hostPort(raddr.IP, raddr.Zone, raddr.Port))
}

// udpAddrOrNil keeps a nil *net.UDPAddr out of a non-nil net.Addr, as
// package net's errors do.
func udpAddrOrNil(a *net.UDPAddr) net.Addr {
	if a == nil {
		return nil
	}
	return a
}

// hostPort formats an IP and port as an address the parsers take; a nil
// IP gives an empty host (any address).
func hostPort(ip net.IP, zone string, port int) string {
	host := ""
	if len(ip) != 0 {
		host = ip.String()
		if zone != "" {
			host += "%" + zone
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
