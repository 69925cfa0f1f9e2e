package host

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

const dropRecvQueueFull = tcp.DropRecvQueueFull

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// udpTable is the host's UDP demultiplexer.
type udpTable struct {
	socks map[Key]*Socket // by bound local address and port
	fwd   []*UDPForwarder
}

// udpDrop counts a datagram that goes no further.
func (h *Host) udpDrop(r tcp.DropReason) {
	h.stats.UDP.InErrors++
	h.countDrop(tcp.Tuple{}, nil, r)
}

// inputUDP delivers one UDP datagram, b, from the IP packet pkt, to the
// socket bound to its destination, or to a forwarder, or answers it with
// port unreachable (RFC 1122 §4.1.3.1).
func (h *Host) inputUDP(now time.Duration, src, dst netip.Addr, b, pkt []byte) {
	u, err := wire.ParseUDP(src, dst, b)
	switch err {
	case nil:
	case wire.ErrUDPChecksum, wire.ErrUDPZeroChecksum:
		// RFC 1122 §4.1.3.4: a datagram with a bad checksum is
		// discarded silently.
		h.stats.UDP.InCsumErrors++
		h.udpDrop(tcp.DropBadChecksum)
		return
	default:
		h.udpDrop(tcp.DropMalformed)
		return
	}
	if src.IsMulticast() || src == limitedBroadcast {
		// RFC 1122 §4.1.3.6: a datagram from a broadcast or multicast
		// source is discarded.
		h.udpDrop(tcp.DropNotForUs)
		return
	}
	from := netip.AddrPortFrom(src, u.SrcPort())
	if s := h.findUDP(dst, u.DstPort(), from); s != nil {
		h.deliver(now, s, from, u.Payload())
		return
	}
	if !h.IsLocal(dst) {
		// The host's own addresses are never forwarded: only others'.
		if f := h.udpForwarderFor(dst); f != nil {
			h.flowInput(now, f, from, netip.AddrPortFrom(dst, u.DstPort()), u.Payload())
			return
		}
		h.udpDrop(tcp.DropNotForUs)
		return
	}
	h.stats.UDP.NoPorts++
	h.countDrop(tcp.Tuple{}, nil, tcp.DropNoConnection)
	h.unreachable(now, src, dst, wire.ProtoUDP, pkt)
}

// findUDP finds the socket for a datagram to dst:port from a peer: the
// exact address first, then its family's wildcard, then the dual-stack
// one. A connected socket takes datagrams from its peer only (RFC 1122
// §4.1.3.4's "connection" of a UDP socket, as Linux does).
func (h *Host) findUDP(dst netip.Addr, port uint16, from netip.AddrPort) *Socket {
	socks := h.udp.socks
	if len(socks) == 0 {
		return nil
	}
	s := socks[Key{dst, port}]
	if s == nil {
		wild := netip.IPv4Unspecified()
		if !dst.Is4() {
			wild = netip.IPv6Unspecified()
		}
		if s = socks[Key{wild, port}]; s == nil {
			s = socks[Key{netip.Addr{}, port}]
		}
	}
	if s == nil || s.remote.IsValid() && s.remote != from {
		return nil
	}
	return s
}

// udpBindConflict reports whether a socket already covers any address key
// would, with the listeners' overlap rules.
func (h *Host) udpBindConflict(key Key) bool {
	if h.udp.socks[key] != nil {
		return true
	}
	for k := range h.udp.socks {
		if k.Port == key.Port && addrsOverlap(k.Addr, key.Addr) {
			return true
		}
	}
	return false
}

// BindUDP opens a UDP socket on addr (invalid: both families) and port (0:
// an ephemeral one), connected to remote if that is valid.
func (h *Host) BindUDP(addr netip.Addr, port uint16, remote netip.AddrPort) (*Socket, error) {
	if addr.IsValid() && !addr.IsUnspecified() && !h.IsLocal(addr) {
		return nil, ErrAddrNotOurs
	}
	if port == 0 {
		if port = h.pickUDPPort(addr); port == 0 {
			return nil, ErrNoFreePort
		}
	}
	key := Key{addr, port}
	if h.udpBindConflict(key) {
		return nil, ErrAddrInUse
	}
	if !addr.IsValid() {
		addr = netip.IPv6Unspecified()
	}
	s := newSocket(netip.AddrPortFrom(addr, port), remote)
	s.key, s.bound = key, true
	if h.udp.socks == nil {
		h.udp.socks = make(map[Key]*Socket)
	}
	h.udp.socks[key] = s
	return s, nil
}

// CloseSocket unbinds a socket (or ends a forwarded flow).
func (h *Host) CloseSocket(s *Socket) {
	switch {
	case s.flow != nil:
		h.endFlow(s)
	case s.ping.id != 0:
		if h.ping[s.ping] == s {
			delete(h.ping, s.ping)
		}
	case s.bound && h.udp.socks[s.key] == s:
		delete(h.udp.socks, s.key)
	}
}

// icmpToUDP passes an ICMP error whose invoking packet (its IP header and
// the 8-byte UDP header, RFC 792) came from a connected UDP socket to
// that socket, and reports whether the invoking packet was UDP at all.
// Only hard errors are kept for the application, as Linux does without
// IP_RECVERR; the next read or write returns ECONNREFUSED.
func (h *Host) icmpToUDP(inv []byte, kind tcp.ICMPKind) bool {
	ip, err := wire.ParseQuotedIP(inv)
	if err != nil || ip.Protocol() != wire.ProtoUDP {
		return false // not UDP, or cut too short to name a socket
	}
	if kind != tcp.ICMPHard {
		return true
	}
	src, dst := ip.Src(), ip.Dst()
	// The UDP ports are its first 4 bytes, where TCP's are too.
	sport, dport, _, _ := wire.TCPQuote(ip.Payload())
	peer := netip.AddrPortFrom(dst, dport)
	s := h.findUDP(src, sport, peer)
	if s == nil || s.remote != peer || s.local.Addr() != src {
		return true
	}
	s.err = syscall.ECONNREFUSED
	h.emit(Event{Kind: ReadableEvent, Socket: s})
	return true
}

// SendUDP sends one datagram for s from src to dst. An invalid source
// address lets the host choose one; a set one need not be the host's (a
// forwarded flow answers from the original destination). Errors are
// syscall errnos for the runtime to wrap, or ErrFlowIdle.
func (h *Host) SendUDP(now time.Duration, s *Socket, src, dst netip.AddrPort, p []byte) error {
	ipLen := wire.IPv4HeaderLen
	if !dst.Addr().Is4() {
		ipLen = wire.IPv6HeaderLen
	}
	// No fragmentation: a datagram must fit the link (RFC 8085 §3.2
	// asks applications to avoid it anyway).
	if ipLen+wire.UDPHeaderLen+len(p) > h.mtu {
		return syscall.EMSGSIZE
	}
	if e := s.TakeErr(); e != 0 {
		return e
	}
	if !src.Addr().IsValid() {
		a, ok := h.SourceFor(dst.Addr())
		if !ok {
			return syscall.ENETUNREACH
		}
		src = netip.AddrPortFrom(a, src.Port())
	}
	if s.flow != nil {
		if s.flow.expired {
			return ErrFlowIdle
		}
		s.flow.lastActive = now
	}
	buf := h.tx.slot()
	n := wire.EncodeUDP(buf[ipLen:], src.Addr(), dst.Addr(), src.Port(), dst.Port(), p)
	if n == 0 {
		return syscall.EMSGSIZE
	}
	n += h.encodeIP(buf, src.Addr(), dst.Addr(), wire.ProtoUDP, n, 0, false)
	h.tx.commit(n, PacketMeta{})
	h.stats.UDP.OutDatagrams++
	return nil
}
