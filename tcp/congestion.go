package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// congestion is the loss-recovery state around the congestion-control
// algorithm c.ca: fast retransmit and fast recovery (RFC 5681 §3.2) with
// NewReno's partial acknowledgments (RFC 6582). The algorithm sizes the
// window; this decides when a loss happened and what to resend.
type congestion struct {
	dupAcks    int
	inRecovery bool
	recover    seqnum.Value
	recoverSet bool // recover still bounds a new fast retransmit
}

// init starts the recovery state and a fresh algorithm, with the initial
// window for the negotiated MSS.
func (cc *congestion) init(c *Conn) {
	alg := c.ccAlg
	if alg == CCDefault {
		alg = c.env.Config.CongestionControl
	}
	c.ca = newCongestionControl(alg, uint32(c.EffectiveMSS()))
	cc.dupAcks = 0
	cc.inRecovery = false
	cc.recover = c.iss
	cc.recoverSet = false
}

func (cc *congestion) flight(c *Conn) uint32 { return uint32(c.sndUna.Size(c.sndMax)) }

func (cc *congestion) onAck(c *Conn, now time.Duration, acked uint32, ack seqnum.Value, rtt time.Duration) {
	mss := uint32(c.EffectiveMSS())
	cc.dupAcks = 0
	if cc.inRecovery {
		if ack.GreaterThanEq(cc.recover) {
			// RFC 6582 §3.2 step 3: full acknowledgment.
			cc.inRecovery = false
			c.ca.OnRecoveryEnd(now)
			c.ca.SetCwnd(min(c.ca.Ssthresh(), cc.flight(c)+mss))
			return
		}
		// Partial acknowledgment: retransmit the next hole and deflate.
		c.retransmitHead = true
		cwnd := c.ca.Cwnd()
		if acked < cwnd {
			cwnd -= acked
		}
		c.ca.SetCwnd(cwnd + mss)
		return
	}
	if cc.recoverSet && ack.GreaterThan(cc.recover) {
		// Past the last recovery: recover no longer matters, and
		// forgetting it keeps serial arithmetic from wrapping later.
		cc.recoverSet = false
	}
	c.ca.OnAck(now, acked, rtt, cc.flight(c))
}

func (cc *congestion) onDupAck(c *Conn, now time.Duration) {
	mss := uint32(c.EffectiveMSS())
	cc.dupAcks++
	if cc.inRecovery {
		c.ca.SetCwnd(c.ca.Cwnd() + mss) // RFC 5681 §3.2 step 4: inflate
		return
	}
	// RFC 6582 §3.2 step 1: a new recovery only past the last one.
	if cc.dupAcks == 3 && (!cc.recoverSet || c.sndUna.GreaterThan(cc.recover)) {
		c.ca.OnCongestionEvent(now, cc.flight(c))
		cc.recover, cc.recoverSet = c.sndMax, true
		c.ca.SetCwnd(c.ca.Ssthresh() + 3*mss) // RFC 5681 §3.2 step 3
		cc.inRecovery = true
		c.retransmitHead = true
	}
}

func (cc *congestion) onTimeout(c *Conn, now time.Duration) {
	c.ca.OnRTO(now, cc.flight(c))
	cc.dupAcks = 0
	cc.inRecovery = false
	cc.recover, cc.recoverSet = c.sndMax, true
}

// Cwnd returns the congestion window in bytes.
func (c *Conn) Cwnd() uint32 { return c.ca.Cwnd() }
