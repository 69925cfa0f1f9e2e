package tcp

import "github.com/threeway-tcp/threeway/seqnum"

// congestion is NewReno congestion control: slow start and congestion
// avoidance (RFC 5681 §3.1), fast retransmit and fast recovery (RFC 5681
// §3.2) with NewReno's partial acknowledgments (RFC 6582).
type congestion struct {
	cwnd       uint32
	ssthresh   uint32
	dupAcks    int
	inRecovery bool
	recover    seqnum.Value
	recoverSet bool // recover still bounds a new fast retransmit
}

func (cc *congestion) init(c *Conn) {
	mss := uint32(c.EffectiveMSS())
	// RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)).
	cc.cwnd = min(10*mss, max(2*mss, 14600))
	cc.ssthresh = 1 << 30 // RFC 5681 §3.1: arbitrarily high
	cc.dupAcks = 0
	cc.inRecovery = false
	cc.recover = c.iss
	cc.recoverSet = false
}

func (cc *congestion) flight(c *Conn) uint32 { return uint32(c.sndUna.Size(c.sndMax)) }

func (cc *congestion) onAck(c *Conn, acked uint32, ack seqnum.Value) {
	mss := uint32(c.EffectiveMSS())
	cc.dupAcks = 0
	if cc.inRecovery {
		if ack.GreaterThanEq(cc.recover) {
			// RFC 6582 §3.2 step 3: full acknowledgment.
			cc.inRecovery = false
			cc.cwnd = min(cc.ssthresh, cc.flight(c)+mss)
			return
		}
		// Partial acknowledgment: retransmit the next hole and deflate.
		c.retransmitHead = true
		if acked < cc.cwnd {
			cc.cwnd -= acked
		}
		cc.cwnd += mss
		return
	}
	if cc.recoverSet && ack.GreaterThan(cc.recover) {
		// Past the last recovery: recover no longer matters, and
		// forgetting it keeps serial arithmetic from wrapping later.
		cc.recoverSet = false
	}
	if cc.cwnd < cc.ssthresh {
		cc.cwnd += min(acked, mss) // slow start
	} else {
		cc.cwnd += max(1, mss*mss/cc.cwnd) // congestion avoidance
	}
}

func (cc *congestion) onDupAck(c *Conn) {
	mss := uint32(c.EffectiveMSS())
	cc.dupAcks++
	if cc.inRecovery {
		cc.cwnd += mss // RFC 5681 §3.2 step 4: inflate
		return
	}
	// RFC 6582 §3.2 step 1: a new recovery only past the last one.
	if cc.dupAcks == 3 && (!cc.recoverSet || c.sndUna.GreaterThan(cc.recover)) {
		cc.ssthresh = max(cc.flight(c)/2, 2*mss)
		cc.recover, cc.recoverSet = c.sndMax, true
		cc.cwnd = cc.ssthresh + 3*mss
		cc.inRecovery = true
		c.retransmitHead = true
	}
}

func (cc *congestion) onTimeout(c *Conn) {
	mss := uint32(c.EffectiveMSS())
	// RFC 5681 §3.1 equation 4, and the loss window of one segment.
	cc.ssthresh = max(cc.flight(c)/2, 2*mss)
	cc.cwnd = mss
	cc.dupAcks = 0
	cc.inRecovery = false
	cc.recover, cc.recoverSet = c.sndMax, true
}

// Cwnd returns the congestion window in bytes.
func (c *Conn) Cwnd() uint32 { return c.cc.cwnd }
