package tcp

// congestion starts the congestion-control algorithm c.ca (cc.go) for a
// connection. Loss detection and recovery, which call into it, are in
// recovery.go.
type congestion struct{}

// init restarts the algorithm: cong builds it afresh, with the initial
// window for the MSS of the moment (the negotiated one), on first use.
func (cc *congestion) init(c *Conn) { c.ca = nil }

// cong returns the connection's congestion-control algorithm, starting it
// on first use: an idle connection, which never sends, carries none.
func (c *Conn) cong() CongestionControl {
	if c.ca == nil {
		c.ca = newCongestionControl(c.ccAlgorithm(), uint32(c.EffectiveMSS()))
	}
	return c.ca
}

// ccAlgorithm is the algorithm chosen for the connection: its own, else
// the Env's.
func (c *Conn) ccAlgorithm() CCAlgorithm {
	if c.ccAlg != CCDefault {
		return c.ccAlg
	}
	return c.env.Config.CongestionControl
}

// Cwnd returns the congestion window in bytes.
func (c *Conn) Cwnd() uint32 { return c.cong().Cwnd() }
