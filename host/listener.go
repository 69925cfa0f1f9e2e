package host

import (
	"errors"
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Key is a bound local address: a specific address, an unspecified
// address of one family (0.0.0.0 or ::), or the zero Addr for both.
type Key struct {
	Addr netip.Addr
	Port uint16
}

// Listener is a passive open (RFC 9293 §3.5): the core's listener and
// its binding.
type Listener struct {
	User any // the runtime's wrapper
	tcb  *tcp.Listener
	key  Key
	open bool
}

// TCB is the core listener (its backlog and Fast Open settings).
func (l *Listener) TCB() *tcp.Listener { return l.tcb }

// Key is the listener's binding.
func (l *Listener) Key() Key { return l.key }

// Errors of binding.
var (
	ErrNoFreePort  = errors.New("no free port")
	ErrAddrInUse   = syscall.EADDRINUSE
	ErrAddrNotOurs = errors.New("cannot assign requested address")
)

// Listen binds a listener to addr (invalid: both families; unspecified:
// one family) and port (0: an ephemeral one).
func (h *Host) Listen(addr netip.Addr, port uint16) (*Listener, error) {
	if addr.IsValid() && !addr.IsUnspecified() && !h.IsLocal(addr) {
		return nil, ErrAddrNotOurs
	}
	if port == 0 {
		if port = h.pickListenPort(addr); port == 0 {
			return nil, ErrNoFreePort
		}
	}
	key := Key{addr, port}
	if h.listenConflict(key) {
		return nil, ErrAddrInUse
	}
	l := &Listener{tcb: tcp.NewListener(h.env), key: key, open: true}
	h.listeners[key] = l
	return l, nil
}

// Listeners is the listener table, for inspection. It is the Host's own
// map: callers must not change it.
func (h *Host) Listeners() map[Key]*Listener { return h.listeners }

// Accept hands out the next established connection, or nil.
func (h *Host) Accept(l *Listener) (c *Conn, more bool) {
	for {
		tcb := l.tcb.Accept()
		if tcb == nil {
			return nil, false
		}
		_, ready := l.tcb.Pending()
		if c = h.conns[tcb.Tuple()]; c != nil {
			c.listener = nil
			return c, ready > 0
		}
	}
}

// CloseListener stops listening; half-open and unaccepted connections
// get a RST.
func (h *Host) CloseListener(now time.Duration, l *Listener) {
	if !l.open {
		return
	}
	l.open = false
	if h.listeners[l.key] == l {
		delete(h.listeners, l.key)
	}
	h.closedCh = l.tcb.Close(now, &h.out, h.closedCh[:0])
	for _, tcb := range h.closedCh {
		if c := h.conns[tcb.Tuple()]; c != nil {
			h.Touch(c)
		}
	}
	clear(h.closedCh)
	h.Flush(now)
}

// findListener finds the listener for a local address and port: the
// exact address first, then its family's wildcard, then the dual-stack one.
func (h *Host) findListener(a netip.Addr, port uint16) *Listener {
	if l := h.listeners[Key{a, port}]; l != nil {
		return l
	}
	wild := netip.IPv4Unspecified()
	if !a.Is4() {
		wild = netip.IPv6Unspecified()
	}
	if l := h.listeners[Key{wild, port}]; l != nil {
		return l
	}
	return h.listeners[Key{netip.Addr{}, port}]
}

// listenConflict reports whether a listener already covers any address
// that key would: as on Linux, a wildcard and a specific address on one
// port collide, and so do the dual-stack wildcard and either family's.
func (h *Host) listenConflict(key Key) bool {
	for k := range h.listeners {
		if k.Port == key.Port && addrsOverlap(k.Addr, key.Addr) {
			return true
		}
	}
	return false
}

// addrsOverlap reports whether two bound addresses can receive the same
// packet.
func addrsOverlap(a, b netip.Addr) bool {
	switch {
	case !a.IsValid() || !b.IsValid():
		return true // the dual-stack wildcard
	case a.Is4() != b.Is4():
		return false
	case a.IsUnspecified() || b.IsUnspecified():
		return true
	}
	return a == b
}
