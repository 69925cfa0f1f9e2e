package host

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// FuzzInput feeds arbitrary packets to a host with a listener, a UDP
// socket and an echo socket: no panic, and everything it sends parses.
func FuzzInput(f *testing.F) {
	f.Add(seg{sport: 40000, dport: 80, seq: 1, flags: wire.FlagSYN}.packet())
	f.Add(seg{sport: 40000, dport: 81, seq: 1, flags: wire.FlagSYN | wire.FlagFIN}.packet())
	f.Add(icmpFromPeer(wire.ICMPv4EchoRequest, 0, 1, []byte("x")))
	f.Add(icmpFromPeer(wire.ICMPv4DestUnreach, wire.ICMPv4FragNeeded, 576, seg{sport: 80, dport: 40000}.packet()[:28]))
	f.Add([]byte{0x60, 0, 0, 0, 0, 0, 17, 64})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h := newTestHost(t)
		if _, err := h.Listen(netip.Addr{}, 80); err != nil {
			t.Fatal(err)
		}
		if _, err := h.BindUDP(netip.Addr{}, 53, netip.AddrPort{}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.OpenPing(false, netip.IPv4Unspecified(), netip.Addr{}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			input(h, time.Duration(i)*time.Millisecond, pkt)
		}
		h.Advance(time.Hour)
		output(t, h)
		h.Events()
	})
}
