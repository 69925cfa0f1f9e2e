package wire

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoICMPv6 = 58
)

// IPVersion returns the version nibble of an IP packet, the top four bits
// of its first byte (RFC 791 §3.1, RFC 8200 §3), or 0 if b is empty.
func IPVersion(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return int(b[0] >> 4)
}
