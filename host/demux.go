package host

import (
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Input takes one IP packet from the link and hands its TCP segment to
// the connection, listener, forwarder or reset rule it belongs to, its
// UDP datagram to a socket, its ICMP message to ICMP. Every packet that
// goes no further is counted under a drop reason. trusted says the link
// vouched for the checksum (a packet of the local host, or one the
// device checked). Call Flush after a run of Inputs.
func (h *Host) Input(now time.Duration, pkt []byte, trusted bool) {
	ip, err := wire.ParseIPPacket(pkt)
	if err != nil {
		h.Drop(tcp.DropMalformed)
		return
	}
	if ip.IsFragment() {
		h.Drop(tcp.DropUnsupported)
		return
	}
	src, dst, proto := ip.Src(), ip.Dst(), ip.Protocol()
	if !h.accepts(dst) && !(proto == wire.ProtoUDP && h.udpForwarded(dst)) {
		// Broadcasts and others' packets (RFC 1122 §4.2.3.10).
		h.Drop(tcp.DropNotForUs)
		return
	}
	// IP options (RFC 9293 §3.9.2.1, MUST-50) are skipped: the payload
	// starts after the header length, whatever it holds.
	switch {
	case proto == wire.ProtoTCP:
		h.rxSeg.ECN = ip.ECN() // RFC 3168 §5
		h.rxTrusted = trusted
		h.inputTCP(now, src, dst, ip.Payload())
		h.rxTrusted = false
	case proto == wire.ProtoUDP:
		h.inputUDP(now, src, dst, ip.Payload(), ip.Bytes())
	case proto == wire.ProtoICMP && ip.Version() == 4:
		h.inputICMPv4(now, ip.IPv4())
	case proto == wire.ProtoICMPv6 && ip.Version() == 6:
		h.inputICMPv6(now, ip.IPv6())
	default:
		// IPv6 extension headers are not walked: such packets are
		// dropped, as are other protocols.
		h.Drop(tcp.DropUnsupported)
		if ip.Version() == 4 || proto != 0 && proto != 59 { // not hop-by-hop, not "no next header"
			h.unreachable(now, src, dst, proto, ip.Bytes())
		}
	}
}

func (h *Host) inputTCP(now time.Duration, src, dst netip.Addr, b []byte) {
	if !h.rxTrusted && !wire.VerifyTCPChecksum(src, dst, b) {
		h.Drop(tcp.DropBadChecksum)
		return
	}
	th, err := wire.ParseTCP(b)
	if err != nil {
		h.Drop(tcp.DropMalformed)
		return
	}
	seg := &h.rxSeg
	if err := th.Options(&seg.Options); err != nil {
		h.Drop(tcp.DropMalformed)
		return
	}
	seg.Seq = seqnum.Value(th.Seq())
	seg.Ack = seqnum.Value(th.Ack())
	seg.Flags = th.Flags()
	seg.Window = th.Window()
	seg.Payload = th.Payload()
	t := tcp.Tuple{LocalAddr: dst, RemoteAddr: src, LocalPort: th.DstPort(), RemotePort: th.SrcPort()}
	h.env.Stats.InSegs++
	if h.trace != nil {
		h.trace.Segment(Inbound, t, seg)
	}
	if src.IsMulticast() || src.IsUnspecified() {
		// RFC 9293 §3.10.7.2 and RFC 1122 §4.2.3.10: segments from a
		// multicast or unspecified source are discarded.
		h.countDrop(t, seg, tcp.DropNotForUs)
		return
	}
	if c := h.conns[t]; c != nil {
		h.inputConn(now, c, t, seg)
		return
	}
	h.toListener(now, t, seg)
}

// toListener delivers a segment that matches no connection: to a
// listener on an owned address, else a forwarder, else the reset rule.
func (h *Host) toListener(now time.Duration, t tcp.Tuple, seg *tcp.Segment) {
	if l := h.findListener(t.LocalAddr, t.LocalPort); l != nil && h.IsLocal(t.LocalAddr) {
		if child := l.tcb.Input(now, t, seg, &h.out); child != nil {
			c := h.newConn(child)
			c.listener = l
			h.conns[t] = c
			h.Touch(c)
			h.emit(Event{Kind: NewConnEvent, Conn: c})
		}
		return
	}
	if h.forwardInput(now, t, seg) {
		return
	}
	// RFC 9293 §3.10.7.1: no such connection, answer with a reset.
	h.countDrop(t, seg, tcp.DropNoConnection)
	h.sendReset(t, seg)
}

// sendReset sends the reset that answers seg, if any (never one for a
// RST), counted and traced like the core's segments.
func (h *Host) sendReset(t tcp.Tuple, seg *tcp.Segment) {
	var rst tcp.Segment
	if !tcp.ResetFor(seg, &rst) {
		return
	}
	h.sendSegment(&t, &rst, 0)
	h.env.Stats.OutRsts++
	if h.trace != nil {
		h.trace.Segment(Outbound, t, &rst)
	}
}
