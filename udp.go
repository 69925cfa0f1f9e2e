package threeway

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/threeway-tcp/threeway/host"
)

// sendUDP sends one datagram for c from src to dst through the host. An
// invalid source address lets the stack choose one; a set one need not
// be the stack's (a forwarded flow answers from the original destination).
func (s *Stack) sendUDP(c *UDPConn, src, dst netip.AddrPort, p []byte) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	err := s.host.SendUDP(s.now(), c.hs, src, dst, p)
	s.queueOutput()
	s.unlock()
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError("sendto", errno)
	}
	return err
}

// bindError turns a host binding error into package net's shape.
func bindError(err error, address string) error {
	switch err {
	case host.ErrNoFreePort, host.ErrAddrNotOurs:
		return &net.AddrError{Err: err.Error(), Addr: address}
	case host.ErrAddrInUse:
		return os.NewSyscallError("bind", syscall.EADDRINUSE)
	}
	return err
}

// udpNetwork returns the address family of a UDP network name, 4, 6 or
// 0 for either, and the TCP name with the same family, whose address
// parsing rules UDP shares.
func udpNetwork(network string) (fam int, tcpName string, err error) {
	switch network {
	case "udp":
		return 0, "tcp", nil
	case "udp4":
		return 4, "tcp4", nil
	case "udp6":
		return 6, "tcp6", nil
	}
	return 0, "", net.UnknownNetworkError(network)
}

func isUDPNetwork(network string) bool {
	_, _, err := udpNetwork(network)
	return err == nil
}
