package threeway

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// udpTable is the stack's UDP demultiplexer, guarded by the stack lock.
type udpTable struct {
	socks map[listenKey]*UDPConn // by bound local address and port
	fwd   []*UDPForwarder
	stats UDPStats
}

// UDPStats are the UDP counters (RFC 4113's udpInDatagrams, udpNoPorts,
// udpInErrors, udpOutDatagrams, plus Linux's RcvbufErrors and
// InCsumErrors). Drops are counted by reason in Stats.Drops too.
type UDPStats struct {
	InDatagrams  uint64 // delivered to a socket or a forwarded flow
	NoPorts      uint64 // no socket on the port: port unreachable sent
	InErrors     uint64 // not delivered for another reason
	OutDatagrams uint64
	RcvbufErrors uint64 // dropped: the socket's receive queue was full
	InCsumErrors uint64 // dropped: bad checksum
}

// udpDrop counts a datagram that goes no further.
func (s *Stack) udpDrop(r tcp.DropReason) {
	s.udp.stats.InErrors++
	s.env.Stats.Drops[r]++
	if s.trace != nil {
		s.trace.Dropped(tcp.Tuple{}, nil, r)
	}
}

// inputUDP delivers one UDP datagram, b, from the IP packet pkt, to the
// socket bound to its destination, or to a forwarder, or answers it with
// port unreachable (RFC 1122 §4.1.3.1).
func (s *Stack) inputUDP(now time.Duration, src, dst netip.Addr, b, pkt []byte) {
	u, err := wire.ParseUDP(src, dst, b)
	switch err {
	case nil:
	case wire.ErrUDPChecksum, wire.ErrUDPZeroChecksum:
		// RFC 1122 §4.1.3.4: a datagram with a bad checksum is
		// discarded silently.
		s.udp.stats.InCsumErrors++
		s.udpDrop(tcp.DropBadChecksum)
		return
	default:
		s.udpDrop(tcp.DropMalformed)
		return
	}
	if src.IsMulticast() || src == limitedBroadcast {
		// RFC 1122 §4.1.3.6: a datagram from a broadcast or multicast
		// source is discarded.
		s.udpDrop(tcp.DropNotForUs)
		return
	}
	from := netip.AddrPortFrom(src, u.SrcPort())
	if c := s.findUDP(dst, u.DstPort(), from); c != nil {
		c.deliverLocked(now, from, u.Payload())
		return
	}
	if !s.isLocal(dst) {
		// The stack's own addresses are never forwarded: only others'.
		if f := s.udpForwarderFor(dst); f != nil {
			f.inputLocked(now, from, netip.AddrPortFrom(dst, u.DstPort()), u.Payload())
			return
		}
		s.udpDrop(tcp.DropNotForUs)
		return
	}
	s.udp.stats.NoPorts++
	s.env.Stats.Drops[tcp.DropNoConnection]++
	if s.trace != nil {
		s.trace.Dropped(tcp.Tuple{}, nil, tcp.DropNoConnection)
	}
	s.unreachable(now, src, dst, wire.ProtoUDP, pkt)
}

// findUDP finds the socket for a datagram to dst:port from a peer: the
// exact address first, then its family's wildcard, then the dual-stack
// one. A connected socket takes datagrams from its peer only (RFC 1122
// §4.1.3.4's "connection" of a UDP socket, as Linux does).
func (s *Stack) findUDP(dst netip.Addr, port uint16, from netip.AddrPort) *UDPConn {
	socks := s.udp.socks
	if len(socks) == 0 {
		return nil
	}
	c := socks[listenKey{dst, port}]
	if c == nil {
		wild := netip.IPv4Unspecified()
		if !dst.Is4() {
			wild = netip.IPv6Unspecified()
		}
		if c = socks[listenKey{wild, port}]; c == nil {
			c = socks[listenKey{netip.Addr{}, port}]
		}
	}
	if c == nil || c.remote.IsValid() && c.remote != from {
		return nil
	}
	return c
}

// udpBindConflict reports whether a socket already covers any address key
// would, with the listeners' overlap rules.
func (s *Stack) udpBindConflict(key listenKey) bool {
	if s.udp.socks[key] != nil {
		return true
	}
	for k := range s.udp.socks {
		if k.port == key.port && addrsOverlap(k.addr, key.addr) {
			return true
		}
	}
	return false
}

// pickUDPPort chooses a random free ephemeral port for a socket on a
// (RFC 6056 §3.3.1).
func (s *Stack) pickUDPPort(a netip.Addr) uint16 {
	n := ephemeralHigh - ephemeralLow + 1
	start := s.rng.IntN(n)
	for i := 0; i < n; i++ {
		p := uint16(ephemeralLow + (start+i)%n)
		if !s.udpBindConflict(listenKey{a, p}) {
			return p
		}
	}
	return 0
}

// icmpToUDP passes an ICMP error whose invoking packet (its IP header and
// the 8-byte UDP header, RFC 792) came from a connected UDP socket to
// that socket, and reports whether the invoking packet was UDP at all.
// Only hard errors are kept for the application, as Linux does without
// IP_RECVERR; the next read or write returns ECONNREFUSED.
func (s *Stack) icmpToUDP(inv []byte, kind tcp.ICMPKind) bool {
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
	c := s.findUDP(src, sport, peer)
	if c == nil || c.remote != peer || c.local.Addr() != src {
		return true
	}
	c.sockErr = syscall.ECONNREFUSED
	notify(c.rwait)
	return true
}

// sendUDP sends one datagram for c from src to dst. An invalid source
// address lets the stack choose one; a set one need not be the stack's (a
// forwarded flow answers from the original destination).
func (s *Stack) sendUDP(c *UDPConn, src, dst netip.AddrPort, p []byte) error {
	ipLen := wire.IPv4HeaderLen
	if !dst.Addr().Is4() {
		ipLen = wire.IPv6HeaderLen
	}
	// No fragmentation: a datagram must fit the link (RFC 8085 §3.2
	// asks applications to avoid it anyway).
	if ipLen+wire.UDPHeaderLen+len(p) > s.link.MTU() {
		return os.NewSyscallError("sendto", syscall.EMSGSIZE)
	}
	s.holdClock()
	defer s.releaseClock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	if e := c.takeErr(); e != 0 {
		return os.NewSyscallError("sendto", e)
	}
	if !src.Addr().IsValid() {
		a, ok := s.sourceFor(dst.Addr())
		if !ok {
			return os.NewSyscallError("sendto", syscall.ENETUNREACH)
		}
		src = netip.AddrPortFrom(a, src.Port())
	}
	if c.flow != nil {
		if c.flow.expired {
			return ErrFlowIdle
		}
		c.flow.lastActive = s.now()
	}
	if len(s.tx.pkts) == len(s.tx.bufs) {
		s.writeBatch()
	}
	buf := s.tx.bufs[len(s.tx.pkts)]
	n := wire.EncodeUDP(buf[ipLen:], src.Addr(), dst.Addr(), src.Port(), dst.Port(), p)
	if n == 0 {
		return os.NewSyscallError("sendto", syscall.EMSGSIZE)
	}
	if ipLen == wire.IPv4HeaderLen {
		s.ipID++
		wire.EncodeIPv4(buf, &wire.IPv4Fields{
			Src: src.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoUDP,
			TTL: 64, ID: s.ipID, PayloadLen: n,
		})
	} else {
		wire.EncodeIPv6(buf, &wire.IPv6Fields{
			Src: src.Addr(), Dst: dst.Addr(), NextHeader: wire.ProtoUDP,
			HopLimit: 64, PayloadLen: n,
		})
	}
	s.tx.pkts = append(s.tx.pkts, buf[:ipLen+n])
	s.udp.stats.OutDatagrams++
	s.writeBatch()
	return nil
}

// udpNetwork returns the address family of a UDP network name, 4, 6 or
// 0 for either, and the TCP name with the same family, whose address
// parsing rules UDP shares.
func udpNetwork(network string) (fam int, tcpName string, err error) {
	switch network {
	case "udp":
		return 0, "tcp", nil
	case "udp4":
		return 4, "tcp4", nil
	case "udp6":
		return 6, "tcp6", nil
	}
	return 0, "", net.UnknownNetworkError(network)
}

func isUDPNetwork(network string) bool {
	_, _, err := udpNetwork(network)
	return err == nil
}

// Map returns the UDP counters by name.
func (u *UDPStats) Map() map[string]uint64 {
	return map[string]uint64{
		"InDatagrams":  u.InDatagrams,
		"NoPorts":      u.NoPorts,
		"InErrors":     u.InErrors,
		"OutDatagrams": u.OutDatagrams,
		"RcvbufErrors": u.RcvbufErrors,
		"InCsumErrors": u.InCsumErrors,
	}
}
