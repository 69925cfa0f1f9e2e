package link

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// ipPacket is an IPv4 or IPv6 packet with ECN field ecn and 100 bytes of
// payload whose first four bytes number it.
func ipPacket(v6 bool, ecn uint8, id uint32) []byte {
	b := make([]byte, 140)
	var body []byte
	if v6 {
		body = b[40:]
		wire.EncodeIPv6(b, &wire.IPv6Fields{
			Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
			NextHeader: wire.ProtoTCP, HopLimit: 64, TrafficClass: 0xb8 | ecn, PayloadLen: len(body),
		})
	} else {
		b = b[:120]
		body = b[20:]
		wire.EncodeIPv4(b, &wire.IPv4Fields{
			Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
			Protocol: wire.ProtoTCP, TTL: 64, TOS: 0xb8 | ecn, ID: uint16(id), PayloadLen: len(body),
		})
	}
	body[0], body[1], body[2], body[3] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
	return b
}

// The CE impairment marks ECN-capable packets (ECT(0), ECT(1)) at its
// rate, leaves Not-ECT and already-CE packets and the DSCP alone, and
// keeps the IPv4 header checksum valid (RFC 3168 §5).
func TestCEMarking(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		sim, a, b := simPipe(PipeConfig{Seed: 3, QueueLen: 3 * statPackets, AtoB: Impairments{CE: 0.25}})
		sent := map[uint32]uint8{}
		for i := range uint32(statPackets) {
			ecn := uint8(i % 4) // Not-ECT, ECT(1), ECT(0), CE in turn
			sent[i] = ecn
			write(t, a, ipPacket(v6, ecn, i))
		}
		sim.Advance(time.Minute)
		got := drain(t, b)
		if len(got) != statPackets {
			t.Fatalf("v6 %v: received %d of %d", v6, len(got), statPackets)
		}
		marked := 0
		for _, p := range got {
			var tc uint8
			var id uint32
			if v6 {
				h, err := wire.ParseIPv6(p)
				if err != nil {
					t.Fatal(err)
				}
				tc, id = h.TrafficClass(), idBytes(h.Payload())
			} else {
				h, err := wire.ParseIPv4(p) // checks the header checksum
				if err != nil {
					t.Fatalf("marked packet: %v", err)
				}
				tc, id = h.TOS(), idBytes(h.Payload())
			}
			if tc>>2 != 0xb8>>2 {
				t.Fatalf("DSCP changed: %#x", tc)
			}
			was, now := sent[id], tc&3
			switch {
			case now == was:
			case now == 3 && (was == 1 || was == 2):
				marked++
			default:
				t.Fatalf("packet %d: ECN %d became %d", id, was, now)
			}
		}
		if !near(uint64(marked), statPackets/2, 0.25) || a.Stats().CEMarked != uint64(marked) {
			t.Fatalf("v6 %v: %d of %d ECT packets marked at p=0.25 (stats %d)", v6, marked, statPackets/2, a.Stats().CEMarked)
		}
	}
}

func idBytes(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}
