package host

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Ephemeral ports, like Linux's net.ipv4.ip_local_port_range.
const (
	EphemeralLow  = 32768
	EphemeralHigh = 60999
)

// pickFree tries the ephemeral ports from a random start (RFC 6056
// §3.3.1, random port selection) and returns the first free one, or 0
// when every one is taken.
func (h *Host) pickFree(free func(port uint16) bool) uint16 {
	n := EphemeralHigh - EphemeralLow + 1
	start := h.rng.IntN(n)
	for i := 0; i < n; i++ {
		p := uint16(EphemeralLow + (start+i)%n)
		if free(p) {
			return p
		}
	}
	return 0
}

// PickPort chooses a free ephemeral port for a connection from src to dst.
func (h *Host) PickPort(src netip.Addr, dst netip.AddrPort) uint16 {
	return h.pickFree(func(p uint16) bool {
		t := tcp.Tuple{LocalAddr: src, RemoteAddr: dst.Addr(), LocalPort: p, RemotePort: dst.Port()}
		return h.conns[t] == nil && h.findListener(src, p) == nil
	})
}

func (h *Host) pickListenPort(a netip.Addr) uint16 {
	return h.pickFree(func(p uint16) bool { return !h.listenConflict(Key{a, p}) })
}

func (h *Host) pickUDPPort(a netip.Addr) uint16 {
	return h.pickFree(func(p uint16) bool { return !h.udpBindConflict(Key{a, p}) })
}

// Open files an active open (RFC 9293 §3.5) from local (an invalid
// address or port 0: the host chooses) to dst, in SYN-SENT; its SYN goes
// out on the next Flush; options set on its TCB before then are in it.
func (h *Host) Open(now time.Duration, local, dst netip.AddrPort) (*Conn, error) {
	src, ok := h.SourceFor(dst.Addr())
	if !ok {
		return nil, syscall.ENETUNREACH
	}
	if la := local.Addr().Unmap(); la.IsValid() && !la.IsUnspecified() {
		if la.Is4() != dst.Addr().Is4() || !h.IsLocal(la) && !h.transparent.spoofing {
			return nil, ErrAddrNotOurs
		}
		src = la
	}
	sport := local.Port()
	t := tcp.Tuple{LocalAddr: src, RemoteAddr: dst.Addr(), LocalPort: sport, RemotePort: dst.Port()}
	if sport != 0 && h.conns[t] != nil {
		return nil, ErrAddrInUse
	}
	if sport == 0 {
		if t.LocalPort = h.PickPort(src, dst); t.LocalPort == 0 {
			return nil, ErrNoFreePort
		}
	}
	return h.file(tcp.NewActive(h.env, t, now)), nil
}

// File adds a connection the caller made with tcp.NewActive to the table.
func (h *Host) File(tcb *tcp.Conn) *Conn { return h.file(tcb) }
