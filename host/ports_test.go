package host

import (
	"net/netip"
	"testing"

	"github.com/threeway-tcp/threeway/tcp"
)

// RFC 6056 §3.3.1: with every ephemeral port towards a destination in
// use, an active open fails rather than reusing one; a freed port is
// found again.
func TestEphemeralPortExhaustion(t *testing.T) {
	h := newTestHost(t)
	dst := netip.MustParseAddrPort("192.0.2.9:443")
	for p := EphemeralLow; p <= EphemeralHigh; p++ {
		// Listeners on the host's address take every ephemeral port.
		h.listeners[Key{local4, uint16(p)}] = &Listener{tcb: tcp.NewListener(h.env), key: Key{local4, uint16(p)}, open: true}
	}
	if _, err := h.Open(0, netip.AddrPort{}, dst); err != ErrNoFreePort {
		t.Fatalf("open with no free port: %v", err)
	}
	delete(h.listeners, Key{local4, 40000})
	c, err := h.Open(0, netip.AddrPort{}, dst)
	if err != nil || c.TCB().Tuple().LocalPort != 40000 {
		t.Fatalf("open with one free port: %v", err)
	}
	// And that one is now taken by the connection itself.
	if _, err := h.Open(0, netip.AddrPort{}, dst); err != ErrNoFreePort {
		t.Fatalf("second open: %v", err)
	}
	// A fixed port in use is refused (EADDRINUSE).
	if _, err := h.Open(0, netip.AddrPortFrom(local4, 40000), dst); err != ErrAddrInUse {
		t.Fatalf("open from a used port: %v", err)
	}
}

// A listener and a wildcard on one port collide, as on Linux; different
// families do not.
func TestListenConflicts(t *testing.T) {
	h := newTestHost(t)
	if _, err := h.Listen(netip.IPv4Unspecified(), 80); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Listen(local4, 80); err != ErrAddrInUse {
		t.Fatalf("specific under a wildcard: %v", err)
	}
	if _, err := h.Listen(local6, 80); err != nil {
		t.Fatalf("other family: %v", err)
	}
	if _, err := h.Listen(netip.MustParseAddr("198.51.100.1"), 81); err != ErrAddrNotOurs {
		t.Fatalf("foreign address: %v", err)
	}
}
