package host

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// The host is 192.0.2.1 (and 2001:db8::1); the peer 192.0.2.9.
var (
	local4 = netip.MustParseAddr("192.0.2.1")
	peer4  = netip.MustParseAddr("192.0.2.9")
	local6 = netip.MustParseAddr("2001:db8::1")
)

func newTestHost(t *testing.T) *Host {
	t.Helper()
	var secret [16]byte
	secret[0] = 7
	env := tcp.NewEnv(tcp.Config{MTU: 1500}, secret)
	return New(Config{
		Env: env, MTU: 1500,
		Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")},
	})
}

// seg is a TCP segment template from the peer: tests override fields.
type seg struct {
	sport, dport uint16
	seq, ack     uint32
	flags        wire.Flags
	window       uint16
	opts         wire.Options
	payload      []byte
}

// packet is s as an IPv4 packet from the peer to the host.
func (s seg) packet() []byte {
	if s.window == 0 {
		s.window = 65535
	}
	n := wire.TCPSegmentLen(&s.opts, len(s.payload))
	b := make([]byte, wire.IPv4HeaderLen+n)
	f := wire.TCPFields{SrcPort: s.sport, DstPort: s.dport, Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: s.window}
	tb := b[wire.IPv4HeaderLen:]
	wire.EncodeTCP(tb, &f, &s.opts, s.payload)
	wire.TCP(tb).SetChecksum(wire.TCPChecksum(peer4, local4, tb))
	wire.EncodeIPv4(b, &wire.IPv4Fields{Src: peer4, Dst: local4, Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: n})
	return b
}

// sent is a packet the host sent, parsed.
type sent struct {
	ip  wire.IPPacket
	tcp wire.TCP // valid for TCP
}

// output takes and parses everything the host built.
func output(t *testing.T, h *Host) []sent {
	t.Helper()
	var got []sent
	for _, b := range h.TakeOutput(nil) {
		for _, p := range b.Pkts {
			ip, err := wire.ParseIPPacket(append([]byte(nil), p...))
			if err != nil {
				t.Fatalf("the host sent a malformed packet: %v", err)
			}
			s := sent{ip: ip}
			if ip.Protocol() == wire.ProtoTCP {
				if s.tcp, err = wire.ParseTCP(ip.Payload()); err != nil {
					t.Fatalf("the host sent a malformed segment: %v", err)
				}
			}
			got = append(got, s)
		}
		h.Recycle(b)
	}
	return got
}

// one expects exactly one packet out.
func one(t *testing.T, h *Host) sent {
	t.Helper()
	got := output(t, h)
	if len(got) != 1 {
		t.Fatalf("sent %d packets, want 1", len(got))
	}
	return got[0]
}

func input(h *Host, now time.Duration, pkt []byte) {
	h.Input(now, pkt, false)
	h.Flush(now)
}

// eventsOf returns the kinds of the host's pending events.
func eventsOf(h *Host) []EventKind {
	var k []EventKind
	for _, e := range h.Events() {
		k = append(k, e.Kind)
	}
	return k
}

func has(kinds []EventKind, k EventKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// established opens a connection from the peer's port 40000 to a
// listener on port 80, peer ISN 1000, and returns it, accepted, with the
// host's ISN.
func established(t *testing.T, h *Host) (*Conn, uint32) {
	t.Helper()
	l, err := h.Listen(netip.Addr{}, 80)
	if err != nil {
		t.Fatal(err)
	}
	input(h, 0, seg{sport: 40000, dport: 80, seq: 1000, flags: wire.FlagSYN, opts: wire.Options{HasMSS: true, MSS: 1460}}.packet())
	synack := one(t, h)
	iss := synack.tcp.Seq()
	input(h, time.Millisecond, seg{sport: 40000, dport: 80, seq: 1001, ack: iss + 1, flags: wire.FlagACK}.packet())
	output(t, h)
	c, _ := h.Accept(l)
	if c == nil || c.TCB().State() != tcp.Established {
		t.Fatalf("no established connection: %v", c)
	}
	h.Events()
	return c, iss
}

var _ = seqnum.Value(0)
