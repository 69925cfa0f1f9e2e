package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// Explicit Congestion Notification (RFC 3168 §6.1): negotiated on the
// handshake, ECT(0) on new data, CE marks echoed with ECE until the sender
// answers with CWR, and at most one window reduction per round trip.

// ECNMode says whether connections use ECN.
type ECNMode uint8

// The modes. The default, like Linux's tcp_ecn=2, accepts ECN when the
// peer asks for it but does not ask on active opens.
const (
	ECNPassive ECNMode = iota // accept a peer's request (default)
	ECNOn                     // also request it on active opens
	ECNOff                    // never use it
)

// The IP ECN codepoints (RFC 3168 §5), as Segment.ECN carries them.
const (
	ECNNotECT uint8 = 0
	ECNECT1   uint8 = 1
	ECNECT0   uint8 = 2
	ECNCE     uint8 = 3
)

const (
	flagECE = wire.FlagECE
	flagCWR = wire.FlagCWR
)

// ecnState is a connection's ECN state.
type ecnState struct {
	ok        bool         // negotiated: both ends are ECN-capable
	peerAsked bool         // a SYN with ECE and CWR came (passive side)
	echo      bool         // receiver: CE seen, ECE on every ACK until CWR (§6.1.3)
	sendCWR   bool         // sender: set CWR on the next new data (§6.1.2)
	reduced   bool         // a reduction for ECE is in force until recover
	recover   seqnum.Value // SND.MAX at the last reduction
}

// ecnNegotiate records what a SYN or SYN-ACK said about ECN (§6.1.1):
// an "ECN-setup SYN" has ECE and CWR, an "ECN-setup SYN-ACK" ECE only.
func (c *Conn) ecnNegotiate(seg *Segment) {
	mode := c.env.Config.ECN
	ece, cwr := seg.has(flagECE), seg.has(flagCWR)
	if !seg.has(flagACK) {
		c.ecn.peerAsked = ece && cwr
		c.ecn.ok = c.ecn.peerAsked && mode != ECNOff
		return
	}
	c.ecn.ok = c.ecnAsking() && ece && !cwr
}

// ecnAsking reports whether our SYN asks for ECN: only in ECNOn, and not
// on a retransmitted SYN (§6.1.1.1: a middlebox may drop ECN-setup SYNs).
func (c *Conn) ecnAsking() bool { return c.env.Config.ECN == ECNOn && !c.synRetrans }

// ecnSynFlags are the ECN bits of our SYN or SYN-ACK.
func (c *Conn) ecnSynFlags(synAck bool) wire.Flags {
	switch {
	case synAck && c.ecn.ok:
		return flagECE
	case !synAck && c.ecnAsking():
		return flagECE | flagCWR
	}
	return 0
}

// ecnReceived notes the ECN of a segment carrying text (§6.1.3): CWR ends
// the echo, CE (re)starts it, and the first CE is acknowledged at once so
// the sender learns of it within the round trip.
func (c *Conn) ecnReceived(seg *Segment) {
	if !c.ecn.ok {
		return
	}
	if seg.has(flagCWR) {
		c.ecn.echo = false
	}
	if seg.ECN == ECNCE {
		if !c.ecn.echo {
			c.ackNow = true
		}
		c.ecn.echo = true
		c.env.Stats.ECNCEReceived++
	}
}

// ecnAck reacts to ECE on an ACK (§6.1.2): one reduction per window of
// data, none while loss recovery has already reduced, and CWR on the
// next new data either way.
func (c *Conn) ecnAck(now time.Duration, seg *Segment) {
	if !c.ecn.ok || !seg.has(flagECE) || seg.has(flagSYN) {
		return
	}
	if c.ecn.reduced && c.sndUna.LessThanEq(c.ecn.recover) {
		return
	}
	c.ecn.sendCWR = true
	c.ecn.reduced, c.ecn.recover = true, c.sndMax
	if c.lossState != nil && c.rec.state != recOpen {
		return // loss recovery's reduction stands for this window
	}
	c.cong().OnCongestionEvent(now, uint32(c.sndUna.Size(c.sndMax)))
	c.env.Stats.ECNReductions++
}

// ecnMark sets the ECN bits of an outgoing segment s carrying n octets
// from seq: ECE while echoing; on new data (not a retransmission, §6.1.5,
// nor a window probe, §6.1.6) ECT(0), and CWR once after a reduction.
func (c *Conn) ecnMark(s *Segment, seq seqnum.Value, n int) {
	if !c.ecn.ok {
		return
	}
	if c.ecn.echo {
		s.Flags |= flagECE
	}
	if n == 0 || seq.LessThan(c.sndMax) || c.sndWnd == 0 {
		return
	}
	s.ECN = ECNECT0
	if c.ecn.sendCWR {
		s.Flags |= flagCWR
		c.ecn.sendCWR = false
	}
}

// ECN reports whether the connection negotiated ECN.
func (c *Conn) ECN() bool { return c.ecn.ok }
