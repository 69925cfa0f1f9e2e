package tcp

import "time"

// Keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off by default
// (MUST-25); when on, an idle connection is probed after KeepAliveIdle
// (default two hours, MUST-28), then every interval, and given up after
// count unanswered probes. A probe is <SEQ=SND.UNA-1><ACK=RCV.NXT> with no
// data (SHLD-12), which the peer must acknowledge; a lost probe ACK is
// just one of count (MUST-29).

// Keep-alive defaults, as Linux's tcp_keepalive_{time,intvl,probes}.
const (
	KeepAliveIdle     = 2 * time.Hour
	KeepAliveInterval = 75 * time.Second
	KeepAliveCount    = 9
)

// keepAlive is a connection's keep-alive state.
type keepAlive struct {
	on       bool
	idle     time.Duration
	interval time.Duration
	count    int
	probes   int
	at       time.Duration // next probe; never when off
}

// SetKeepAlive turns keep-alives on or off (MUST-24); zero idle, interval
// or count take the defaults.
func (c *Conn) SetKeepAlive(now time.Duration, on bool, idle, interval time.Duration, count int) {
	if c.state == Closed || !on && c.ka == nil {
		return
	}
	if c.ka == nil {
		c.ka = new(keepAlive) // most connections never turn it on
	}
	k := c.ka
	k.on = on
	k.idle, k.interval, k.count = idle, interval, count
	if k.idle <= 0 {
		k.idle = KeepAliveIdle
	}
	if k.interval <= 0 {
		k.interval = KeepAliveInterval
	}
	if k.count <= 0 {
		k.count = KeepAliveCount
	}
	k.probes = 0
	k.at = never
	if on {
		k.at = now + k.idle
	}
}

// keepAliveOn reports whether keep-alive probes are on.
func (c *Conn) keepAliveOn() bool { return c.ka != nil && c.ka.on }

// heardFromPeer restarts the idle period: any acceptable segment shows
// the peer is alive (MUST-26).
func (c *Conn) heardFromPeer(now time.Duration) {
	if c.keepAliveOn() {
		c.ka.probes = 0
		c.ka.at = now + c.ka.idle
	}
}

// keepAliveDue sends a probe, or gives up after count of them.
func (c *Conn) keepAliveDue(now time.Duration, out *Output) {
	k := c.ka
	switch c.state {
	case Established, CloseWait, FinWait2:
	default:
		k.at = now + k.idle
		return
	}
	if c.sndUna != c.sndMax {
		// Data in flight: the retransmission timer watches the peer.
		k.at = now + k.idle
		return
	}
	if k.probes >= k.count {
		c.env.Stats.Timeouts++
		c.closeWith(now, ErrTimedOut)
		return
	}
	k.probes++
	c.env.Stats.KeepAliveProbes++
	s := out.push(c.tuple)
	s.Seq = c.sndUna - 1
	s.Ack = c.rcvNxt
	s.Flags = flagACK
	s.Window = c.windowField()
	c.dataOptions(&s.Options, now)
	k.at = now + k.interval
}
