package wire

import "encoding/binary"

// TCPFields are the header fields EncodeTCP writes. The data offset is
// derived from the options and the checksum is left zero.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            Flags
	Window, Urgent   uint16
}

// TCPSegmentLen returns the length of a segment with options o (which may
// be nil) and payloadLen bytes of data.
func TCPSegmentLen(o *Options, payloadLen int) int {
	n := TCPHeaderLen + payloadLen
	if o != nil {
		n += o.Len()
	}
	return n
}

// EncodeTCP writes the header f, the options o (which may be nil) and the
// payload into b and returns the segment length (RFC 9293 §3.1). The
// checksum field is zero; fill it with TCPChecksum and TCP.SetChecksum.
// It returns 0 and writes nothing if b is too small.
func EncodeTCP(b []byte, f *TCPFields, o *Options, payload []byte) int {
	n := TCPSegmentLen(o, len(payload))
	if len(b) < n {
		return 0
	}
	hl := TCPHeaderLen
	if o != nil {
		hl += o.Encode(b[TCPHeaderLen:])
	}
	binary.BigEndian.PutUint16(b[0:2], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:4], f.DstPort)
	binary.BigEndian.PutUint32(b[4:8], f.Seq)
	binary.BigEndian.PutUint32(b[8:12], f.Ack)
	b[12] = byte(hl/4) << 4
	b[13] = byte(f.Flags)
	binary.BigEndian.PutUint16(b[14:16], f.Window)
	binary.BigEndian.PutUint16(b[16:18], 0)
	binary.BigEndian.PutUint16(b[18:20], f.Urgent)
	copy(b[hl:n], payload)
	return n
}
