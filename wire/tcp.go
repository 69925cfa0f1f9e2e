package wire

import "encoding/binary"

// TCPHeaderLen is the length of a TCP header without options
// (RFC 9293 §3.1).
const TCPHeaderLen = 20

// TCP is a view over a whole TCP segment: header, options and payload
// (RFC 9293 §3.1). Build one with ParseTCP or EncodeTCP.
type TCP []byte

// ParseTCP checks that b holds at least a fixed header and that the data
// offset lies between 5 words and the end of b, and returns b as a view.
// It does not look at the options; see TCP.Options.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPHeaderLen {
		return nil, ErrTCPShort
	}
	off := int(b[12]>>4) * 4
	if off < TCPHeaderLen || off > len(b) {
		return nil, ErrTCPDataOffset
	}
	return TCP(b), nil
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:2]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:4]) }

// Seq returns the sequence number.
func (t TCP) Seq() uint32 { return binary.BigEndian.Uint32(t[4:8]) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() uint32 { return binary.BigEndian.Uint32(t[8:12]) }

// HeaderLen returns the data offset in bytes: header plus options.
func (t TCP) HeaderLen() int { return int(t[12]>>4) * 4 }

// Flags returns the control bits.
func (t TCP) Flags() Flags { return Flags(t[13]) }

// Window returns the raw, unscaled window field (RFC 7323 §2.2).
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[14:16]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:18]) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return binary.BigEndian.Uint16(t[18:20]) }

// OptionBytes returns the options area, between the fixed header and the
// data offset.
func (t TCP) OptionBytes() []byte { return t[TCPHeaderLen:t.HeaderLen()] }

// Payload returns the data after the header.
func (t TCP) Payload() []byte { return t[t.HeaderLen():] }

// Options parses the options area into o.
func (t TCP) Options(o *Options) error { return ParseOptions(t.OptionBytes(), o) }

// SetChecksum stores c in the checksum field.
func (t TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(t[16:18], c) }
