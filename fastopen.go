package threeway

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
