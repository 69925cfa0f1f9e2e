package tcp

// congestion starts the congestion-control algorithm c.ca (cc.go) for a
// connection. Loss detection and recovery, which call into it, are in
// recovery.go.
type congestion struct{}

// init starts a fresh algorithm with the initial window for the
// negotiated MSS.
func (cc *congestion) init(c *Conn) {
	alg := c.ccAlg
	if alg == CCDefault {
		alg = c.env.Config.CongestionControl
	}
	c.ca = newCongestionControl(alg, uint32(c.EffectiveMSS()))
}

// Cwnd returns the congestion window in bytes.
func (c *Conn) Cwnd() uint32 { return c.ca.Cwnd() }
