package host

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Route sends traffic for Dst out of the host's one link. Src, if valid,
// is the source address to use (Linux's "src" hint); otherwise the host
// picks its first address of Dst's family.
type Route struct {
	Dst netip.Prefix
	Src netip.Addr
}

// defaultRoutes are the routes of a host configured without any:
// everything goes out of the link.
var defaultRoutes = []Route{
	{Dst: netip.MustParsePrefix("0.0.0.0/0")},
	{Dst: netip.MustParsePrefix("::/0")},
}

// Errors of address and route changes.
var (
	ErrAddressExists  = errors.New("threeway: address already assigned")
	ErrNoSuchAddress  = errors.New("threeway: no such address")
	ErrNoSuchRoute    = errors.New("threeway: no such route")
	errInvalidAddress = errors.New("threeway: invalid address")
)

// Addrs returns the host's addresses.
func (h *Host) Addrs() []netip.Prefix { return slices.Clone(h.addrs) }

// AddAddress assigns another address (with its prefix). Listeners on a
// wildcard address accept connections to it at once.
func (h *Host) AddAddress(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("%w %v", errInvalidAddress, p)
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	if h.IsLocal(p.Addr()) {
		return fmt.Errorf("%w: %v", ErrAddressExists, p.Addr())
	}
	h.addrs = append(h.addrs, p)
	return nil
}

// RemoveAddress takes an address away. Connections already using it carry
// on, as on Linux, until they end; nothing new is accepted on it.
func (h *Host) RemoveAddress(a netip.Addr) error {
	i := slices.IndexFunc(h.addrs, func(p netip.Prefix) bool { return p.Addr() == a.Unmap() })
	if i < 0 {
		return fmt.Errorf("%w: %v", ErrNoSuchAddress, a)
	}
	h.addrs = slices.Delete(h.addrs, i, i+1)
	return nil
}

// AddRoute adds r, replacing any route to the same prefix.
func (h *Host) AddRoute(r Route) error {
	if !r.Dst.IsValid() || r.Src.IsValid() && r.Src.Is4() != r.Dst.Addr().Is4() {
		return fmt.Errorf("threeway: invalid route %v via %v", r.Dst, r.Src)
	}
	r.Dst = r.Dst.Masked()
	h.routes = slices.DeleteFunc(h.routes, func(x Route) bool { return x.Dst == r.Dst })
	h.routes = append(h.routes, r)
	return nil
}

// RemoveRoute removes the route to dst.
func (h *Host) RemoveRoute(dst netip.Prefix) error {
	n := len(h.routes)
	h.routes = slices.DeleteFunc(h.routes, func(x Route) bool { return x.Dst == dst.Masked() })
	if len(h.routes) == n {
		return fmt.Errorf("%w: %v", ErrNoSuchRoute, dst)
	}
	return nil
}

// Routes returns the route table.
func (h *Host) Routes() []Route { return slices.Clone(h.routes) }

// IsLocal reports whether a is one of the host's addresses.
func (h *Host) IsLocal(a netip.Addr) bool {
	for _, p := range h.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// SourceFor picks the address to use towards dst (RFC 1122 §3.3.4.3): an
// address whose prefix holds dst (on-link, longest prefix first), else the
// longest-matching route's source, else the first address of dst's
// family. No address on-link and no route: unreachable.
func (h *Host) SourceFor(dst netip.Addr) (netip.Addr, bool) {
	var onLink netip.Prefix
	var first netip.Addr
	for _, p := range h.addrs {
		if p.Addr().Is4() != dst.Is4() {
			continue
		}
		if p.Contains(dst) && (!onLink.IsValid() || p.Bits() > onLink.Bits()) {
			onLink = p
		}
		if !first.IsValid() {
			first = p.Addr()
		}
	}
	if onLink.IsValid() {
		return onLink.Addr(), true
	}
	best := -1
	for i, r := range h.routes {
		if r.Dst.Contains(dst) && (best < 0 || r.Dst.Bits() > h.routes[best].Dst.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return netip.Addr{}, false
	}
	if src := h.routes[best].Src; src.IsValid() && h.IsLocal(src) {
		return src, true
	}
	return first, first.IsValid()
}

// accepts reports whether a packet to dst is the host's to handle: one of
// its addresses, the local address of a connection it has (a forwarded or
// spoofed one), or an address a forwarder covers. Anything else is
// someone else's (RFC 1122 §3.2.1.3).
func (h *Host) accepts(dst netip.Addr) bool {
	return h.IsLocal(dst) || h.transparent.foreign[dst] > 0 || h.forwarderFor(dst) != nil
}
