package threeway

import (
	"net"
	"time"
)

// SetKeepAlive turns keep-alive probes on or off (off by default, as
// RFC 9293 MUST-25 asks; Go's own dialer turns them on for its sockets).
func (c *Conn) SetKeepAlive(keepalive bool) error {
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: keepalive})
}

// SetKeepAlivePeriod sets the idle time before the first probe and the
// interval between probes, and turns keep-alives on.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: d})
}

// SetKeepAliveConfig configures keep-alives as net.TCPConn's method does:
// zero fields take the defaults (2 h idle, 75 s interval, 9 probes).
func (c *Conn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	return c.doOp("set", func(now time.Duration) {
		c.tcb.SetKeepAlive(now, cfg.Enable, cfg.Idle, cfg.Interval, cfg.Count)
	})
}

var _ interface {
	SetKeepAlive(bool) error
	SetKeepAlivePeriod(time.Duration) error
} = (*Conn)(nil)
