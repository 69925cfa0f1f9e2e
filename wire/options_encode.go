package wire

import "encoding/binary"

// Encoded sizes of each layout piece; every piece is a multiple of 4 bytes.
const (
	encMSS       = 4  // MSS
	encTSSACKOK  = 12 // SACKOK, TS
	encTS        = 12 // NOP, NOP, TS
	encSACKOK    = 4  // NOP, NOP, SACKOK
	encWScale    = 4  // NOP, WS
	encSACKFixed = 4  // NOP, NOP, kind, length
	encSACKBlock = 8  // one block
)

// fixedLen is the encoded length of everything except SACK blocks.
func (o *Options) fixedLen() int {
	n := 0
	if o.HasMSS {
		n += encMSS
	}
	switch {
	case o.HasTimestamps && o.SACKPermitted:
		n += encTSSACKOK
	case o.HasTimestamps:
		n += encTS
	case o.SACKPermitted:
		n += encSACKOK
	}
	if o.HasWScale {
		n += encWScale
	}
	return n + o.fastOpenLen()
}

// fastOpenLen is the encoded length of the Fast Open option, padded with
// NOPs to a multiple of 4 bytes, or 0 without one.
func (o *Options) fastOpenLen() int {
	if !o.HasFastOpen {
		return 0
	}
	n := 2 + int(o.FastOpenLen)
	if o.FastOpenExp {
		n += 2
	}
	return (n + 3) &^ 3
}

// sackToSend is how many SACK blocks Encode writes: NumSACK clamped to
// 0..4, less blocks dropped from the end until the options fit in
// MaxOptionsLen (RFC 2018 §3 allows fewer blocks when space is short).
func (o *Options) sackToSend(fixed int) int {
	k := min(max(o.NumSACK, 0), maxSACK)
	for k > 0 && fixed+encSACKFixed+encSACKBlock*k > MaxOptionsLen {
		k--
	}
	return k
}

// Len returns the encoded length of o, a multiple of 4 and at most
// MaxOptionsLen.
func (o *Options) Len() int {
	n := o.fixedLen()
	if k := o.sackToSend(n); k > 0 {
		n += encSACKFixed + encSACKBlock*k
	}
	return n
}

// Encode writes o into b and returns the bytes written, which is o.Len();
// it returns 0 and writes nothing if len(b) < o.Len(). The layout follows
// Linux: MSS; then SACKOK+TS, or NOP,NOP,TS, or NOP,NOP,SACKOK; then
// NOP,WS; then NOP,NOP,SACK. Every piece is 4-byte aligned, so no
// end-of-list padding is ever needed (RFC 9293 §3.1, "Options"). A Fast
// Open option comes after WS, padded with trailing NOPs as Linux pads it.
func (o *Options) Encode(b []byte) int {
	fixed := o.fixedLen()
	k := o.sackToSend(fixed)
	total := fixed
	if k > 0 {
		total += encSACKFixed + encSACKBlock*k
	}
	if len(b) < total {
		return 0
	}
	b = b[:total]
	i := 0
	if o.HasMSS {
		b[i], b[i+1] = optMSS, lenMSS
		binary.BigEndian.PutUint16(b[i+2:], o.MSS)
		i += encMSS
	}
	switch {
	case o.HasTimestamps && o.SACKPermitted:
		b[i], b[i+1] = optSACKOK, lenSACKOK
		i = putTS(b, i+2, o)
	case o.HasTimestamps:
		b[i], b[i+1] = optNOP, optNOP
		i = putTS(b, i+2, o)
	case o.SACKPermitted:
		b[i], b[i+1], b[i+2], b[i+3] = optNOP, optNOP, optSACKOK, lenSACKOK
		i += encSACKOK
	}
	if o.HasWScale {
		b[i], b[i+1], b[i+2], b[i+3] = optNOP, optWScale, lenWScale, o.WScale
		i += encWScale
	}
	if o.HasFastOpen {
		i = putFastOpen(b, i, o)
	}
	if k > 0 {
		b[i], b[i+1], b[i+2], b[i+3] = optNOP, optNOP, optSACK, byte(2+8*k)
		i += encSACKFixed
		for j := 0; j < k; j++ {
			binary.BigEndian.PutUint32(b[i:], o.SACK[j].Start)
			binary.BigEndian.PutUint32(b[i+4:], o.SACK[j].End)
			i += encSACKBlock
		}
	}
	return i
}

// putTS writes a timestamps option at b[i:] (RFC 7323 §3.2) and returns
// the index just past it.
func putTS(b []byte, i int, o *Options) int {
	b[i], b[i+1] = optTS, lenTS
	binary.BigEndian.PutUint32(b[i+2:], o.TSVal)
	binary.BigEndian.PutUint32(b[i+6:], o.TSEcr)
	return i + lenTS
}

// putFastOpen writes the Fast Open option (RFC 7413 §4.1.1, or RFC 6994's
// experimental form) at b[i:], then NOPs up to a 4-byte boundary, and
// returns the index just past them.
func putFastOpen(b []byte, i int, o *Options) int {
	end := i + o.fastOpenLen()
	if o.FastOpenExp {
		b[i], b[i+1] = optExp, byte(4+o.FastOpenLen)
		binary.BigEndian.PutUint16(b[i+2:], fastOpenMagic)
		i += 4
	} else {
		b[i], b[i+1] = optFO, byte(2+o.FastOpenLen)
		i += 2
	}
	i += copy(b[i:], o.FastOpenCookieBytes())
	for ; i < end; i++ {
		b[i] = optNOP
	}
	return i
}
