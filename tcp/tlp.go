package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// wcDelAckT is RFC 8985 §7.2's WCDelAckT: the worst-case delayed-ACK
// time a probe timeout allows for when only one segment is in flight.
const wcDelAckT = 200 * time.Millisecond

// minPTO is the shortest probe timeout (Linux's first TLP floor): on a
// sub-millisecond path 2*SRTT is shorter than a peer takes to be
// scheduled, and every probe would be spurious.
const minPTO = 10 * time.Millisecond

// tlp is RFC 8985 §7's tail loss probe state.
type tlp struct {
	endSeq  seqnum.Value // TLP.end_seq: SND.NXT when the probe went out
	active  bool         // a probe is outstanding (TLP.end_seq is not None)
	retrans bool         // TLP.is_retrans
	due     bool         // the probe timer fired: send the probe on this Poll
	probes  uint64
}

// pto is RFC 8985 §7.2's probe timeout. With one segment in flight it
// waits out the peer's delayed ACK (WCDelAckT), as Linux does: without,
// every lone reply to a request would draw a spurious probe. A lone lost
// tail segment therefore costs about an RTO, a longer tail 2*SRTT.
func (c *Conn) pto(now time.Duration) time.Duration {
	p := time.Second
	if c.srtt > 0 {
		p = max(2*c.srtt, minPTO)
		if c.flight() <= uint32(c.EffectiveMSS()) {
			p += wcDelAckT
		}
	}
	if c.rtoAt != never && now+p > c.rtoAt {
		p = c.rtoAt - now
	}
	return p
}

// tlpEligible is RFC 8985 §7.2's condition for scheduling a probe: SACK
// in use, no recovery under way, no probe outstanding, data in flight.
func (c *Conn) tlpEligible() bool {
	return c.sackOK && c.rec.state == recOpen && !c.tlp.active && c.sndMax.GreaterThan(c.sndUna) &&
		c.state.Synchronized() && c.sndUna != c.iss && c.sndWnd > 0
}

// scheduleTLP (re)arms the probe timer after data went out or an ACK came.
func (c *Conn) scheduleTLP(now time.Duration) {
	if !c.tlpEligible() {
		c.tlpAt = never
		return
	}
	c.tlpAt = now + c.pto(now)
}

// cancelTLP stops the probe timer and ends a probe episode: recovery or
// a timeout has taken over, and its own reduction covers the loss a
// probe might have repaired (no second one from §7.4).
func (c *Conn) cancelTLP() { c.tlpAt, c.tlp.due, c.tlp.active = never, false, false }

// tlpTimeout fires the probe timer: the probe goes out on this Poll.
func (c *Conn) tlpTimeout() {
	c.tlpAt = never
	if c.tlpEligible() {
		c.tlp.due = true
	}
}

// sendTLP is RFC 8985 §7.3: send one new segment if the receive window
// allows, else retransmit the last segment sent; then re-arm the RTO.
func (c *Conn) sendTLP(now time.Duration, out *Output) bool {
	c.tlp.due = false
	if !c.tlpEligible() {
		return false
	}
	mss := c.maxPayload(now)
	off := int(c.bufSeq.Size(c.sndMax))
	unsent := c.snd.n - off
	flight := c.flight()
	if unsent > 0 && c.sndWnd > flight {
		n := min(unsent, mss, int(c.sndWnd-flight))
		seq := c.sndMax
		n = c.emit(now, out, seq, n, false)
		c.sndNxt = seq.Add(seqnum.Size(n))
		c.sndMax = c.sndNxt
		c.tlp.retrans = false
	} else {
		sb := &c.sb
		if sb.empty() {
			return false
		}
		k := len(sb.segs) - 1
		s := sb.segs[k]
		n := int(s.len())
		fin := s.flags&segFIN != 0
		if fin {
			n--
		}
		if n > mss {
			// Probe with the last full-sized piece of it.
			s.start = s.end.Sub(seqnum.Size(mss))
			if fin {
				s.start = s.start.Sub(1)
			}
			n = mss
		}
		c.timing = false // Karn: no sample from a retransmission
		c.emit(now, out, s.start, n, fin)
		c.tlp.retrans = true
	}
	c.tlp.active, c.tlp.endSeq = true, c.sndMax
	c.tlp.probes++
	c.env.Stats.LossProbes++
	c.rtoAt = now + c.rto
	return true
}

// tlpOnAck is RFC 8985 §7.4.2: when the probe is acknowledged, a probe
// that retransmitted data and drew no D-SACK repaired a real loss, which
// still calls for a congestion response; otherwise nothing was lost.
func (c *Conn) tlpOnAck(now time.Duration, ai *ackInfo) {
	t := &c.tlp
	if !t.active || c.sndUna.LessThan(t.endSeq) {
		return
	}
	t.active = false
	if !t.retrans || ai.dsack {
		return
	}
	c.cong().OnCongestionEvent(now, c.flight())
	c.cong().OnRecoveryEnd(now)
}
