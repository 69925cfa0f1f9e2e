package threeway

import "time"

// SetFastOpenKey makes the stack's Fast Open server cookies (RFC 7413
// §4.1.2) come from a fixed primary key, with backup still accepted,
// instead of keys derived from the stack's secret and rotated. The
// cookies are Linux's for the same key, so threeway and Linux servers
// behind one address can share cookies; Linux's sysctl
// net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4 is the
// key whose bytes are those four words, each little-endian.
func (s *Stack) SetFastOpenKey(primary, backup [16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.env.SetFastOpenKey(primary, backup)
}

// WriteSyn sends the SYN of a Fast Open connect (Dialer.FastOpen) that
// still waits for its first write, with the server's cached cookie and as
// much of p as the SYN can carry, and returns how many bytes it took;
// the rest of p is not queued. It is Linux's sendto(MSG_FASTOPEN) on a
// non-blocking socket. ok is false, with nothing done, when no SYN waits
// (Info().SynDeferred).
func (c *Conn) WriteSyn(p []byte) (n int, ok bool) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.do(func(now time.Duration) { n, ok = c.tcb.WriteSyn(now, p) })
	return n, ok
}
