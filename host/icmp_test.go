package host

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// icmpFromPeer is an ICMPv4 message from the peer quoting body.
func icmpFromPeer(typ, code uint8, rest uint32, body []byte) []byte {
	b := make([]byte, wire.IPv4HeaderLen+wire.ICMPHeaderLen+len(body))
	n := wire.EncodeICMP(b[wire.IPv4HeaderLen:], typ, code, rest, body, 0)
	wire.EncodeIPv4(b, &wire.IPv4Fields{Src: peer4, Dst: local4, Protocol: wire.ProtoICMP, TTL: 64, PayloadLen: n})
	return b
}

// RFC 1191 §4: "fragmentation needed" with a next-hop MTU, quoting one of
// the connection's segments, lowers the connection's MSS to fit it.
func TestFragNeededLowersMSS(t *testing.T) {
	h := newTestHost(t)
	c, _ := established(t, h)
	before := c.TCB().Info().SendMSS
	if _, err := c.TCB().Write(make([]byte, 4000)); err != nil {
		t.Fatal(err)
	}
	h.Touch(c)
	h.Flush(2 * time.Millisecond)
	data := output(t, h)
	if len(data) == 0 {
		t.Fatal("no data sent")
	}
	// The quote: the IP header and the first 8 bytes of TCP (RFC 792).
	quote := data[0].ip.Bytes()[:wire.IPv4HeaderLen+8]
	input(h, 3*time.Millisecond, icmpFromPeer(wire.ICMPv4DestUnreach, wire.ICMPv4FragNeeded, 1000, quote))
	after := c.TCB().Info().SendMSS
	if after >= before || after > 1000-40 {
		t.Fatalf("MSS %d -> %d after a next-hop MTU of 1000", before, after)
	}
	if st := h.Stats().ICMP; st.InMsgs != 1 || st.InErrors != 0 {
		t.Fatalf("ICMP stats %+v", st)
	}
}

// RFC 1122 §4.1.3.1: a datagram to a port nobody has gets ICMP port
// unreachable quoting it, counted as NoPorts.
func TestUDPToClosedPortGetsPortUnreachable(t *testing.T) {
	h := newTestHost(t)
	pkt := make([]byte, wire.IPv4HeaderLen+wire.UDPHeaderLen+5)
	n := wire.EncodeUDP(pkt[wire.IPv4HeaderLen:], peer4, local4, 5353, 9, []byte("hello"))
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: peer4, Dst: local4, Protocol: wire.ProtoUDP, TTL: 64, PayloadLen: n})
	input(h, 0, pkt)
	got := one(t, h)
	if got.ip.Protocol() != wire.ProtoICMP || got.ip.Dst() != peer4 {
		t.Fatalf("answer protocol %d to %v", got.ip.Protocol(), got.ip.Dst())
	}
	m, err := wire.ParseICMPv4(got.ip.Payload())
	if err != nil || m.Type() != wire.ICMPv4DestUnreach || m.Code() != wire.ICMPv4PortUnreach {
		t.Fatalf("ICMP %v type %d code %d", err, m.Type(), m.Code())
	}
	q, err := wire.ParseQuotedIP(m.Body())
	if err != nil || q.Protocol() != wire.ProtoUDP || q.Src() != peer4 {
		t.Fatalf("quote %v", err)
	}
	if st := h.Stats(); st.UDP.NoPorts != 1 || st.ICMP.OutMsgs != 1 || st.ICMP.OutErrors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// RFC 1812 §4.3.2.8: ICMP errors are rate limited; the ones held back are
// counted.
func TestUnreachableRateLimited(t *testing.T) {
	h := newTestHost(t)
	pkt := make([]byte, wire.IPv4HeaderLen+wire.UDPHeaderLen)
	n := wire.EncodeUDP(pkt[wire.IPv4HeaderLen:], peer4, local4, 5353, 9, nil)
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: peer4, Dst: local4, Protocol: wire.ProtoUDP, TTL: 64, PayloadLen: n})
	for i := 0; i < ICMPRate+5; i++ {
		h.Input(0, pkt, false)
	}
	if got := len(output(t, h)); got != ICMPRate {
		t.Fatalf("sent %d errors in one second, limit %d", got, ICMPRate)
	}
	if st := h.Stats().ICMP; st.RateLimited != 5 {
		t.Fatalf("rate limited %d, want 5", st.RateLimited)
	}
}

// A malformed packet is counted under its drop reason, and so is a
// malformed ICMP message (under ICMP's InErrors too).
func TestMalformedPacketsCounted(t *testing.T) {
	h := newTestHost(t)
	input(h, 0, []byte{0x45, 0, 0}) // shorter than an IPv4 header
	if h.Env().Stats.Drops[tcp.DropMalformed] != 1 || h.Env().Stats.InErrs != 1 {
		t.Fatalf("drops %v InErrs %d", h.Env().Stats.Drops[tcp.DropMalformed], h.Env().Stats.InErrs)
	}
	bad := icmpFromPeer(wire.ICMPv4EchoRequest, 0, 1, []byte("x"))
	bad[len(bad)-1] ^= 0xff // breaks the checksum
	input(h, 0, bad)
	if h.Env().Stats.Drops[tcp.DropMalformed] != 2 || h.Stats().ICMP.InErrors != 1 {
		t.Fatalf("drops %v ICMP %+v", h.Env().Stats.Drops[tcp.DropMalformed], h.Stats().ICMP)
	}
	bs := seg{sport: 40000, dport: 80, seq: 1, flags: wire.FlagSYN}.packet()
	bs[len(bs)-1] ^= 0x01 // the TCP checksum no longer matches
	input(h, 0, bs)
	if h.Env().Stats.Drops[tcp.DropBadChecksum] != 1 {
		t.Fatalf("bad checksum drops %d", h.Env().Stats.Drops[tcp.DropBadChecksum])
	}
	if got := output(t, h); len(got) != 0 {
		t.Fatalf("answered malformed packets with %d", len(got))
	}
}

// Echo requests to the host are answered (RFC 1122 §3.2.2.6), and the
// reply is counted.
func TestEchoRequestAnswered(t *testing.T) {
	h := newTestHost(t)
	input(h, 0, icmpFromPeer(wire.ICMPv4EchoRequest, 0, 0x12340001, []byte("ping")))
	got := one(t, h)
	m, err := wire.ParseICMPv4(got.ip.Payload())
	if err != nil || m.Type() != wire.ICMPv4EchoReply || m.RestOfHeader() != 0x12340001 || string(m.Body()) != "ping" {
		t.Fatalf("reply %v %d", err, m.Type())
	}
	if st := h.Stats().ICMP; st.InMsgs != 1 || st.OutMsgs != 1 || st.OutErrors != 0 {
		t.Fatalf("ICMP stats %+v", st)
	}
}

// A packet for an address that is not the host's is dropped as not ours
// (RFC 1122 §3.2.1.3), not answered.
func TestOthersPacketsDropped(t *testing.T) {
	h := newTestHost(t)
	p := seg{sport: 40000, dport: 80, seq: 1, flags: wire.FlagSYN}.packet()
	wire.EncodeIPv4(p, &wire.IPv4Fields{Src: peer4, Dst: netip.MustParseAddr("198.51.100.7"), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: len(p) - wire.IPv4HeaderLen})
	input(h, 0, p)
	if h.Env().Stats.Drops[tcp.DropNotForUs] != 1 || len(output(t, h)) != 0 {
		t.Fatal("a packet for another address was not dropped as such")
	}
}
