package tcp

import (
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// ICMPKind classifies an ICMP error for TCP (RFC 9293 §3.9.2.2,
// RFC 1122 §4.2.3.9, RFC 5927).
type ICMPKind uint8

// ICMP error kinds.
const (
	// ICMPHard: destination unreachable, protocol or port unreachable
	// (codes 2 and 3): the connection attempt is refused.
	ICMPHard ICMPKind = iota
	// ICMPSoft: net or host unreachable, source route failed, time
	// exceeded, parameter problem: never abort (MUST-56); remembered so a
	// later timeout can say why.
	ICMPSoft
	// ICMPPacketTooBig: fragmentation needed (RFC 1191) or packet too big
	// (RFC 8201), carrying the next-hop MTU.
	ICMPPacketTooBig
)

// ICMPError reports an ICMP error whose invoking packet was one of ours
// with sequence number seq. It is ignored unless seq lies in
// [SND.UNA, SND.MAX), which defeats blind ICMP attacks (RFC 5927 §4.1).
// softErr is the errno to remember for a soft error (e.g. EHOSTUNREACH).
func (c *Conn) ICMPError(now time.Duration, kind ICMPKind, seq seqnum.Value, mtu int, softErr syscall.Errno) bool {
	if c.state == Closed || c.state == Listen || !seq.InRange(c.sndUna, c.sndMax) {
		return false
	}
	switch kind {
	case ICMPHard:
		// RFC 1122 §4.2.3.9 (SHLD-25 in RFC 9293): abort; like Linux,
		// only while the connection is being opened.
		if c.state == SynSent || c.state == SynReceived {
			c.env.Stats.AttemptFails++
			c.closeWith(now, ErrConnectionRefused)
			return true
		}
		c.softErr = ErrConnectionRefused
	case ICMPSoft:
		c.softErr = softErr
	case ICMPPacketTooBig:
		ipHdr := 40
		if !c.tuple.LocalAddr.Is4() {
			ipHdr = 60
		}
		floor := 536 // RFC 1191 §3: never below 68, Linux uses 552; stay at the IPv4 default MSS
		if !c.tuple.LocalAddr.Is4() {
			floor = 1220 // RFC 8200 §5: 1280 is the minimum IPv6 MTU
		}
		// Computed in int: an ICMPv6 MTU is 32 bits and must not wrap.
		m := min(max(mtu-ipHdr, floor), 65535)
		if m >= int(c.sndMSS) {
			return false
		}
		ca := c.cong() // started, if not yet, with the MSS before this one
		c.sndMSS = uint16(m)
		ca.SetMSS(uint32(c.EffectiveMSS()))
		// RFC 1191 §6.4: retransmit what the smaller MTU lost, at once.
		if c.lossState == nil || c.sndUna == c.iss || c.sb.empty() {
			c.sndNxt = c.sndUna
		} else {
			c.sb.markAllLost(false, false)
		}
		c.timing = false
	}
	return true
}
