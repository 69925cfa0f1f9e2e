package wire

import (
	"encoding/binary"
	"net/netip"
)

// ICMP errors (RFC 792, RFC 4443 §2.1).
const (
	ErrICMPShort    Error = "icmp: message shorter than 8 bytes"
	ErrICMPChecksum Error = "icmp: bad checksum"
)

// ICMPv4 types and codes used by the stack (RFC 792, RFC 1191).
const (
	ICMPv4EchoReply      = 0
	ICMPv4DestUnreach    = 3
	ICMPv4EchoRequest    = 8
	ICMPv4TimeExceeded   = 11
	ICMPv4ParamProblem   = 12
	ICMPv4ProtoUnreach   = 2 // code of DestUnreach
	ICMPv4PortUnreach    = 3 // code of DestUnreach
	ICMPv4FragNeeded     = 4 // code of DestUnreach (RFC 1191 §4)
	ICMPv4SourceQuench   = 4
	ICMPv6DestUnreach    = 1
	ICMPv6PacketTooBig   = 2
	ICMPv6TimeExceeded   = 3
	ICMPv6ParamProblem   = 4
	ICMPv6EchoRequest    = 128
	ICMPv6EchoReply      = 129
	ICMPv6PortUnreach    = 4 // code of DestUnreach (RFC 4443 §3.1)
	ICMPv6UnknownNextHdr = 1 // code of ParamProblem (RFC 4443 §3.4)
)

// ICMPHeaderLen is the fixed part of every ICMP and ICMPv6 message.
const ICMPHeaderLen = 8

// ICMP is a view over an ICMPv4 or ICMPv6 message.
type ICMP []byte

// ParseICMPv4 checks length and checksum (RFC 792) of an ICMPv4 message.
func ParseICMPv4(b []byte) (ICMP, error) {
	if len(b) < ICMPHeaderLen {
		return nil, ErrICMPShort
	}
	if Fold(Sum(b, 0)) != 0 {
		return nil, ErrICMPChecksum
	}
	return ICMP(b), nil
}

// ParseICMPv6 checks length and checksum, which covers the IPv6
// pseudo-header (RFC 4443 §2.3).
func ParseICMPv6(src, dst netip.Addr, b []byte) (ICMP, error) {
	if len(b) < ICMPHeaderLen {
		return nil, ErrICMPShort
	}
	if Fold(Sum(b, PseudoHeaderSum(src, dst, ProtoICMPv6, len(b)))) != 0 {
		return nil, ErrICMPChecksum
	}
	return ICMP(b), nil
}

func (m ICMP) Type() uint8 { return m[0] }
func (m ICMP) Code() uint8 { return m[1] }

// RestOfHeader is bytes 4..8: identifier and sequence for echo, the
// next-hop MTU for fragmentation needed (low 16 bits, RFC 1191 §4) and
// the MTU for packet too big (RFC 4443 §3.2).
func (m ICMP) RestOfHeader() uint32 { return binary.BigEndian.Uint32(m[4:8]) }

// Body is what follows the 8-byte header: echo data, or the invoking
// packet of an error message.
func (m ICMP) Body() []byte { return m[ICMPHeaderLen:] }

// EncodeICMP writes an ICMP message (type, code, rest of header, body)
// into b and returns its length (0 if b is too small). For ICMPv6 pass
// the pseudo-header sum of the enclosing packet as pseudo; for ICMPv4, 0.
func EncodeICMP(b []byte, typ, code uint8, rest uint32, body []byte, pseudo uint32) int {
	n := ICMPHeaderLen + len(body)
	if len(b) < n {
		return 0
	}
	b[0], b[1] = typ, code
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint32(b[4:8], rest)
	copy(b[ICMPHeaderLen:], body)
	binary.BigEndian.PutUint16(b[2:4], Fold(Sum(b[:n], pseudo)))
	return n
}
