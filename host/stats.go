package host

import "github.com/threeway-tcp/threeway/tcp"

// Stats are the host's counters beyond the core's tcp.Stats.
type Stats struct {
	UDP  UDPStats
	ICMP ICMPStats
}

// UDPStats are the UDP counters (RFC 4113's udpInDatagrams, udpNoPorts,
// udpInErrors, udpOutDatagrams, plus Linux's RcvbufErrors and
// InCsumErrors). Drops are counted by reason in tcp.Stats.Drops too.
type UDPStats struct {
	InDatagrams  uint64 // delivered to a socket or a forwarded flow
	NoPorts      uint64 // no socket on the port: port unreachable sent
	InErrors     uint64 // not delivered for another reason
	OutDatagrams uint64
	RcvbufErrors uint64 // dropped: the socket's receive queue was full
	InCsumErrors uint64 // dropped: bad checksum
}

// ICMPStats count ICMP and ICMPv6 messages (RFC 4293's
// icmpStatsInMsgs, InErrors, OutMsgs; RFC 4443 §2.4(f)'s rate limit).
type ICMPStats struct {
	InMsgs      uint64
	InErrors    uint64 // malformed or bad checksum
	OutMsgs     uint64
	OutErrors   uint64 // errors (unreachable, parameter problem) sent
	RateLimited uint64 // errors not sent: over the rate limit
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

// Map returns the ICMP counters by name.
func (s *ICMPStats) Map() map[string]uint64 {
	return map[string]uint64{
		"InMsgs":      s.InMsgs,
		"InErrors":    s.InErrors,
		"OutMsgs":     s.OutMsgs,
		"OutErrors":   s.OutErrors,
		"RateLimited": s.RateLimited,
	}
}

// Stats returns the host's counters; the core's are Env().Stats.
func (h *Host) Stats() Stats { return h.stats }

// Drop counts a packet that goes no further under reason r: the
// host's own drops and the runtime's (a packet the link truncated, a
// bad offload header).
func (h *Host) Drop(r tcp.DropReason) {
	h.env.Stats.InErrs++
	h.countDrop(tcp.Tuple{}, nil, r)
}

// countDrop counts r and tells the tracer, without InErrs.
func (h *Host) countDrop(t tcp.Tuple, seg *tcp.Segment, r tcp.DropReason) {
	h.env.Stats.Drops[r]++
	if h.trace != nil {
		h.trace.Dropped(t, seg, r)
	}
}
