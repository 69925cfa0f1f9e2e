package threeway

import (
	"net/netip"
	"testing"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// FuzzStackInput feeds arbitrary packets to a stack with a listener and an
// established connection: no panic, and every packet is either processed
// or counted.
func FuzzStackInput(f *testing.F) {
	syn := tcpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.TCPFields{SrcPort: 4000, DstPort: 80, Seq: 1, Flags: wire.FlagSYN, Window: 1000},
		&wire.Options{HasMSS: true, MSS: 1460, HasTimestamps: true, TSVal: 1, SACKPermitted: true, HasWScale: true, WScale: 7}, nil)
	f.Add(syn)
	f.Add(tcpPacket(client6.Addr(), server6.Addr(), wire.TCPFields{SrcPort: 4000, DstPort: 80, Seq: 1, Ack: 2, Flags: wire.FlagACK | wire.FlagPSH, Window: 1000}, nil, []byte("data")))
	f.Add(icmpPacket(clientAddr.Addr(), serverAddr.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4FragNeeded, 576, syn[:28]))
	f.Add(icmpPacket(client6.Addr(), server6.Addr(), wire.ICMPv6EchoRequest, 0, 1, []byte("x")))
	f.Add([]byte{0x45, 0, 0, 20})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		a, b := link.Pipe(link.PipeConfig{})
		defer a.Close()
		sec := [16]byte{3}
		s, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr, server6}, ISNSecret: &sec})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Listen("tcp", ":80"); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.now()
		before := s.env.Stats
		s.host.Input(now, syn, false)
		s.host.Input(now, pkt, false)
		s.flushLocked(now)
		after := s.env.Stats
		var drops uint64
		for i := range after.Drops {
			drops += after.Drops[i] - before.Drops[i]
		}
		if after.InSegs == before.InSegs && drops == 0 && len(pkt) > 0 && wire.IPVersion(pkt) != 4 && wire.IPVersion(pkt) != 6 {
			t.Fatalf("packet neither processed nor counted")
		}
	})
}
