package tcp

import "time"

// runTimers fires the connection's timers that are due at now.
func (c *Conn) runTimers(now time.Duration) {
	if now >= c.closeAt {
		// 2*MSL in TIME-WAIT (RFC 9293 §3.10.8), or an orphaned
		// FIN-WAIT-2 that never got its FIN.
		c.closeWith(now, nil)
		return
	}
	if now >= c.rtoAt {
		c.onRetransmitTimeout(now)
	}
	c.delAckTimer(now)
	if l := c.lossState; l != nil {
		if now >= l.rackAt {
			c.rackTimeout(now)
		}
		if now >= l.tlpAt {
			c.tlpTimeout()
		}
	}
	if now >= c.persistAt {
		c.persistAt = never
		c.persistBackoff++
		c.forceProbe = true
	}
}

// onRetransmitTimeout is RFC 6298 §5.4-5.6 plus the retry limits of
// RFC 9293 §3.8.3 (R2): back off, go back to SND.UNA, or give up.
func (c *Conn) onRetransmitTimeout(now time.Duration) {
	cfg := &c.env.Config
	c.rtoAt = never
	c.retries++
	limit := cfg.Retries
	switch c.state {
	case SynSent:
		limit = cfg.SynRetries
		if c.synRetries > 0 {
			limit = int(c.synRetries)
		}
	case SynReceived:
		limit = cfg.SynAckRetries
	}
	if c.retries > limit {
		c.env.Stats.Timeouts++
		if c.state == SynSent || c.state == SynReceived {
			c.env.Stats.AttemptFails++
		}
		err := error(ErrTimedOut)
		if c.softErr != nil {
			// Like Linux: a timeout after ICMP soft errors reports them.
			err = c.softErr
		}
		c.closeWith(now, err)
		return
	}
	if c.sndWnd == 0 && c.state.Synchronized() {
		// A lost or refused zero-window probe: back the probe timer
		// off rather than the RTO, which the data will need later.
		c.persistBackoff++
	} else {
		c.rto = min(c.rto*2, cfg.MaxRTO)
	}
	c.timing = false
	switch c.state {
	case SynSent:
		c.env.Stats.SynRetrans++
		c.synRetrans = true
		c.env.Stats.RetransSegs++
		c.fastOpenSynTimeout(now)
	case SynReceived:
		c.env.Stats.SynAckRetrans++
		c.synRetrans = true
		c.env.Stats.RetransSegs++
	}
	if c.lossState == nil || c.sndUna == c.iss || c.sb.empty() {
		// The SYN (or SYN-ACK) is what is unacknowledged: send it again.
		c.sndNxt = c.sndUna
		return
	}
	// Retransmit at least one octet even if the window has since closed
	// (a lost probe, or a peer that shrank its window): with nothing
	// sent, no timer would run again (RFC 9293 §3.8.6.1, MUST-36 and
	// MUST-37; MAY-7 allows sending beyond SND.UNA+SND.WND). recoveryOnRTO
	// lets the first retransmission go whatever the windows say.
	c.recoveryOnRTO(now)
}
