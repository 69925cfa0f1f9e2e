package wire

// Error is a parse error. It is a string type so that every error the
// package returns is a comparable constant.
type Error string

func (e Error) Error() string { return string(e) }

// TCP errors (RFC 9293 §3.1, §3.2).
const (
	ErrTCPShort        Error = "tcp: segment shorter than 20 bytes"
	ErrTCPDataOffset   Error = "tcp: data offset below 5 or past the segment"
	ErrOptionLength    Error = "tcp: option length 0 or 1 or past the header"
	ErrOptionMalformed Error = "tcp: known option with wrong length"
)

// Errors that concern either IP version.
const (
	ErrIPVersion  Error = "ip: version is neither 4 nor 6"
	ErrQuoteShort Error = "ip: quoted packet shorter than its header and 8 bytes"
)

// IPv4 errors (RFC 791 §3.1).
const (
	ErrIPv4Short     Error = "ipv4: packet shorter than 20 bytes"
	ErrIPv4Version   Error = "ipv4: version is not 4"
	ErrIPv4HeaderLen Error = "ipv4: header length below 20 or past the packet"
	ErrIPv4TotalLen  Error = "ipv4: total length below the header length or past the packet"
	ErrIPv4Checksum  Error = "ipv4: bad header checksum"
)

// IPv6 errors (RFC 8200 §3).
const (
	ErrIPv6Short      Error = "ipv6: packet shorter than 40 bytes"
	ErrIPv6Version    Error = "ipv6: version is not 6"
	ErrIPv6PayloadLen Error = "ipv6: payload length past the packet"
)
