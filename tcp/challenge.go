package tcp

import "time"

// challengeLimiter bounds challenge ACKs per second (RFC 5961 §7), so an
// attacker cannot use them to probe for sequence numbers or to amplify.
type challengeLimiter struct {
	windowStart time.Duration
	sent        int
}

func (l *challengeLimiter) allow(now time.Duration, limit int) bool {
	if now-l.windowStart >= time.Second || now < l.windowStart {
		l.windowStart = now
		l.sent = 0
	}
	if l.sent >= limit {
		return false
	}
	l.sent++
	return true
}
