package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/host"
)

// Route sends traffic for Dst out of the stack's one link. Src, if
// valid, is the source address to use (Linux's "src" hint); otherwise the
// stack picks its first address of Dst's family.
type Route = host.Route

// Errors of address and route changes.
var (
	ErrAddressExists = host.ErrAddressExists
	ErrNoSuchAddress = host.ErrNoSuchAddress
	ErrNoSuchRoute   = host.ErrNoSuchRoute
)

// AddAddress assigns another address (with its prefix) to the stack at run
// time. Listeners on a wildcard address accept connections to it at once.
func (s *Stack) AddAddress(p netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.AddAddress(p)
}

// RemoveAddress takes an address away. Connections already using it carry
// on, as on Linux, until they end; nothing new is accepted on it.
func (s *Stack) RemoveAddress(a netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.RemoveAddress(a)
}

// AddRoute adds r, replacing any route to the same prefix.
func (s *Stack) AddRoute(r Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.AddRoute(r)
}

// RemoveRoute removes the route to dst.
func (s *Stack) RemoveRoute(dst netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.RemoveRoute(dst)
}

// Routes returns the route table.
func (s *Stack) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.Routes()
}
