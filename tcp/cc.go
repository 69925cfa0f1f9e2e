package tcp

import "time"

// CongestionControl is a congestion-control algorithm: it owns cwnd and
// ssthresh and nothing else. Loss detection and what to resend belong to
// the recovery code, which calls in when something happened and may size
// the window itself during recovery (PRR, RFC 6937) through SetCwnd. A new
// algorithm implements this and adds a CCAlgorithm; nothing else in the
// core changes.
type CongestionControl interface {
	// OnAck: newly cumulatively acked or SACKed bytes outside recovery;
	// rtt is the sample (0 if none).
	OnAck(now time.Duration, acked uint32, rtt time.Duration, inflight uint32)
	// OnCongestionEvent: loss detected (fast retransmit, RACK) or ECE;
	// reduce once. The recovery code reads Ssthresh to size PRR.
	OnCongestionEvent(now time.Duration, inflight uint32)
	// OnRecoveryEnd: the recovery point was acknowledged.
	OnRecoveryEnd(now time.Duration)
	// OnRTO: the retransmission timer fired.
	OnRTO(now time.Duration, inflight uint32)
	// Undo: the last reduction was spurious (DSACK, F-RTO, RACK);
	// restore the state before it.
	Undo(now time.Duration)
	Cwnd() uint32
	Ssthresh() uint32
	// SetCwnd lets recovery (PRR) and post-recovery sizing set cwnd.
	SetCwnd(uint32)
	// SetMSS tells the algorithm the sender's MSS (after the handshake,
	// or when path MTU discovery lowers it).
	SetMSS(mss uint32)
}

// CCAlgorithm selects a congestion-control algorithm.
type CCAlgorithm uint8

// The algorithms. The zero value is the stack's default, CUBIC.
const (
	CCDefault CCAlgorithm = iota
	CCNewReno             // RFC 5681 + RFC 6582
	CCCubic               // RFC 9438 with HyStart++ (RFC 9406)
)

func (a CCAlgorithm) String() string {
	switch a {
	case CCDefault:
		return "default"
	case CCNewReno:
		return "newreno"
	case CCCubic:
		return "cubic"
	}
	return "unknown"
}

// maxCwnd bounds every algorithm's window so that sums of windows and
// segments never wrap a uint32.
const maxCwnd = 1 << 30

// clampMSS keeps an MSS within what a TCP header can carry (RFC 9293
// §3.7.1: 16 bits), and above zero, so window arithmetic cannot overflow.
func clampMSS(mss uint32) uint32 { return min(max(mss, 1), 65535) }

// initialWindow is RFC 6928's IW = min(10*MSS, max(2*MSS, 14600)).
func initialWindow(mss uint32) uint32 { return min(10*mss, max(2*mss, 14600)) }

// newCongestionControl returns a fresh algorithm a, with the initial
// window for mss.
func newCongestionControl(a CCAlgorithm, mss uint32) CongestionControl {
	switch a {
	case CCNewReno:
		return newNewReno(mss)
	default:
		return newCubic(mss)
	}
}

// SetCongestionControl chooses the connection's algorithm, overriding
// the Env's Config. Only effective before data is sent.
func (c *Conn) SetCongestionControl(a CCAlgorithm) {
	if c.sndMax.GreaterThan(c.iss.Add(1)) {
		return
	}
	c.ccAlg = a
	c.cc.init(c)
}

// CongestionControl returns the connection's algorithm.
func (c *Conn) CongestionControl() CongestionControl { return c.cong() }

// CongestionAlgorithm names the connection's algorithm.
func (c *Conn) CongestionAlgorithm() CCAlgorithm {
	switch c.cong().(type) {
	case *newReno:
		return CCNewReno
	}
	return CCCubic
}
