package threeway

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Route sends traffic for Dst out of the stack's one link. Src, if
// valid, is the source address to use (Linux's "src" hint); otherwise the
// stack picks its first address of Dst's family.
type Route struct {
	Dst netip.Prefix
	Src netip.Addr
}

// defaultRoutes are the routes of a stack whose Options.Routes is nil:
// everything goes out of the link, as before routes existed.
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

// AddAddress assigns another address (with its prefix) to the stack at run
// time. Listeners on a wildcard address accept connections to it at once.
func (s *Stack) AddAddress(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("%w %v", errInvalidAddress, p)
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isLocal(p.Addr()) {
		return fmt.Errorf("%w: %v", ErrAddressExists, p.Addr())
	}
	s.addrs = append(s.addrs, p)
	return nil
}

// RemoveAddress takes an address away. Connections already using it carry
// on, as on Linux, until they end; nothing new is accepted on it.
func (s *Stack) RemoveAddress(a netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.addrs, func(p netip.Prefix) bool { return p.Addr() == a.Unmap() })
	if i < 0 {
		return fmt.Errorf("%w: %v", ErrNoSuchAddress, a)
	}
	s.addrs = slices.Delete(s.addrs, i, i+1)
	return nil
}

// AddRoute adds r, replacing any route to the same prefix.
func (s *Stack) AddRoute(r Route) error {
	if !r.Dst.IsValid() || r.Src.IsValid() && r.Src.Is4() != r.Dst.Addr().Is4() {
		return fmt.Errorf("threeway: invalid route %v via %v", r.Dst, r.Src)
	}
	r.Dst = r.Dst.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = slices.DeleteFunc(s.routes, func(x Route) bool { return x.Dst == r.Dst })
	s.routes = append(s.routes, r)
	return nil
}

// RemoveRoute removes the route to dst.
func (s *Stack) RemoveRoute(dst netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.routes)
	s.routes = slices.DeleteFunc(s.routes, func(x Route) bool { return x.Dst == dst.Masked() })
	if len(s.routes) == n {
		return fmt.Errorf("%w: %v", ErrNoSuchRoute, dst)
	}
	return nil
}

// Routes returns the route table.
func (s *Stack) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes)
}

// sourceFor picks the stack address to use towards dst (RFC 1122
// §3.3.4.3): an address whose prefix holds dst (on-link, longest prefix
// first), else the longest-matching route's source, else the first
// address of dst's family. No address on-link and no route: unreachable.
func (s *Stack) sourceFor(dst netip.Addr) (netip.Addr, bool) {
	var onLink netip.Prefix
	var first netip.Addr
	for _, p := range s.addrs {
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
	for i, r := range s.routes {
		if r.Dst.Contains(dst) && (best < 0 || r.Dst.Bits() > s.routes[best].Dst.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return netip.Addr{}, false
	}
	if src := s.routes[best].Src; src.IsValid() && s.isLocal(src) {
		return src, true
	}
	return first, first.IsValid()
}

// accepts reports whether a packet to dst is the stack's to handle: one
// of its addresses, the local address of a connection it has (a forwarded
// or spoofed one), or an address a forwarder covers. Anything else is
// someone else's (RFC 1122 §3.2.1.3).
func (s *Stack) accepts(dst netip.Addr) bool {
	return s.isLocal(dst) || s.transparent.foreign[dst] > 0 || s.forwarderFor(dst) != nil
}
