package threeway

import (
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// inputPacket parses one IP packet and hands its TCP segment to the
// connection, listener or reset rule it belongs to. Every packet that goes
// no further is counted under a drop reason.
func (s *Stack) inputPacket(now time.Duration, pkt []byte) {
	ip, err := wire.ParseIPPacket(pkt)
	if err != nil {
		s.dropPacket(tcp.DropMalformed)
		return
	}
	if ip.IsFragment() {
		s.dropPacket(tcp.DropUnsupported)
		return
	}
	src, dst, proto := ip.Src(), ip.Dst(), ip.Protocol()
	if !s.accepts(dst) && !(proto == wire.ProtoUDP && s.udpForwarded(dst)) {
		// Broadcasts and others' packets (RFC 1122 §4.2.3.10).
		s.dropPacket(tcp.DropNotForUs)
		return
	}
	// IP options (RFC 9293 §3.9.2.1, MUST-50) are skipped: the payload
	// starts after the header length, whatever it holds.
	switch {
	case proto == wire.ProtoTCP:
		s.rxSeg.ECN = ip.ECN() // RFC 3168 §5
		s.inputTCP(now, src, dst, ip.Payload())
	case proto == wire.ProtoUDP:
		s.inputUDP(now, src, dst, ip.Payload(), ip.Bytes())
	case proto == wire.ProtoICMP && ip.Version() == 4:
		s.inputICMPv4(now, ip.IPv4())
	case proto == wire.ProtoICMPv6 && ip.Version() == 6:
		s.inputICMPv6(now, ip.IPv6())
	default:
		// IPv6 extension headers are not walked: such packets are
		// dropped, as are other protocols.
		s.dropPacket(tcp.DropUnsupported)
		if ip.Version() == 4 || proto != 0 && proto != 59 { // not hop-by-hop, not "no next header"
			s.unreachable(now, src, dst, proto, ip.Bytes())
		}
	}
}

func (s *Stack) dropPacket(r tcp.DropReason) {
	s.env.Stats.InErrs++
	s.env.Stats.Drops[r]++
	if s.trace != nil {
		s.trace.Dropped(tcp.Tuple{}, nil, r)
	}
}

func (s *Stack) isLocal(a netip.Addr) bool {
	for _, p := range s.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

func (s *Stack) inputTCP(now time.Duration, src, dst netip.Addr, b []byte) {
	if !s.rxTrusted && !wire.VerifyTCPChecksum(src, dst, b) {
		s.dropPacket(tcp.DropBadChecksum)
		return
	}
	h, err := wire.ParseTCP(b)
	if err != nil {
		s.dropPacket(tcp.DropMalformed)
		return
	}
	seg := &s.rxSeg
	if err := h.Options(&seg.Options); err != nil {
		s.dropPacket(tcp.DropMalformed)
		return
	}
	seg.Seq = seqnum.Value(h.Seq())
	seg.Ack = seqnum.Value(h.Ack())
	seg.Flags = h.Flags()
	seg.Window = h.Window()
	seg.Payload = h.Payload()
	t := tcp.Tuple{LocalAddr: dst, RemoteAddr: src, LocalPort: h.DstPort(), RemotePort: h.SrcPort()}
	s.env.Stats.InSegs++
	if s.trace != nil {
		s.trace.Segment(Inbound, t, seg)
	}
	if src.IsMulticast() || src.IsUnspecified() {
		// RFC 9293 §3.10.7.2 and RFC 1122 §4.2.3.10: segments from a
		// multicast or unspecified source are discarded.
		s.env.Stats.Drops[tcp.DropNotForUs]++
		return
	}
	if c := s.conns[t]; c != nil {
		if seg.Flags.Has(wire.FlagSYN) && c.tcb.State() == tcp.TimeWait {
			c.tcb.RefuseReopen(!s.takesNewSYN(t))
		}
		c.tcb.Input(now, seg, &s.out)
		s.markDirty(c)
		if c.tcb.PendingEvents()&tcp.EvReopen != 0 {
			// TIME-WAIT gave way to a new SYN (RFC 9293 §3.10.7.4).
			s.handleEvents(now, c)
			c.dirty = false
			s.toListener(now, t, seg)
		}
		return
	}
	s.toListener(now, t, seg)
}

// toListener delivers a segment that matches no connection.
func (s *Stack) toListener(now time.Duration, t tcp.Tuple, seg *tcp.Segment) {
	if l := s.findListener(t.LocalAddr, t.LocalPort); l != nil && s.isLocal(t.LocalAddr) {
		if child := l.tcb.Input(now, t, seg, &s.out); child != nil {
			c := s.newConn(child, t)
			c.listener = l
			s.conns[t] = c
			s.markDirty(c)
		}
		return
	}
	if s.forwardInput(now, t, seg) {
		return
	}
	// RFC 9293 §3.10.7.1: no such connection, answer with a reset.
	s.env.Stats.Drops[tcp.DropNoConnection]++
	if s.trace != nil {
		s.trace.Dropped(t, seg, tcp.DropNoConnection)
	}
	o := s.out.Push(t)
	if !tcp.ResetFor(seg, o) {
		s.out.Segs = s.out.Segs[:len(s.out.Segs)-1]
	}
}
