package threeway

import (
	"errors"
	"net"
	"net/netip"
	"strconv"

	"github.com/threeway-tcp/threeway/host"
)

func netipAddrPort(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

var errNoNames = errors.New("threeway: host must be an IP literal (the stack has no resolver)")

// family returns 4, 6 or 0 (either) for a network name.
func family(network string) (int, error) {
	switch network {
	case "tcp":
		return 0, nil
	case "tcp4":
		return 4, nil
	case "tcp6":
		return 6, nil
	}
	return 0, net.UnknownNetworkError(network)
}

func splitAddr(address string) (host string, port uint16, err error) {
	h, p, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, &net.AddrError{Err: "invalid port", Addr: address}
	}
	return h, uint16(n), nil
}

func parseHost(h string) (netip.Addr, error) {
	if h == "localhost" {
		return netip.Addr{}, errNoNames
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}, errNoNames
	}
	return a.Unmap(), nil
}

// parseListenAddr returns the address to listen on; an empty host gives
// the zero Addr (both families) for "tcp", or the family's unspecified
// address for "tcp4"/"tcp6".
func parseListenAddr(network, address string) (netip.AddrPort, error) {
	fam, err := family(network)
	if err != nil {
		return netip.AddrPort{}, err
	}
	h, port, err := splitAddr(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var a netip.Addr
	switch {
	case h == "" && fam == 4:
		a = netip.IPv4Unspecified()
	case h == "" && fam == 6:
		a = netip.IPv6Unspecified()
	case h == "":
	default:
		if a, err = parseHost(h); err != nil {
			return netip.AddrPort{}, err
		}
		if a.IsUnspecified() && fam == 0 {
			a = netip.Addr{}
		}
		if err := checkFamily(a, fam, address); err != nil {
			return netip.AddrPort{}, err
		}
	}
	return netip.AddrPortFrom(a, port), nil
}

func checkFamily(a netip.Addr, fam int, address string) error {
	if a.IsValid() && (fam == 4 && !a.Is4() || fam == 6 && a.Is4()) {
		return &net.AddrError{Err: "address family mismatch", Addr: address}
	}
	return nil
}

// Ephemeral ports, like Linux's net.ipv4.ip_local_port_range.
const (
	ephemeralLow  = host.EphemeralLow
	ephemeralHigh = host.EphemeralHigh
)
