package capture

import (
	"encoding/binary"
	"io"
	"time"
)

// Classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
// a 24-byte file header and a 16-byte header per record, in the byte
// order the magic number shows.
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	pcapHeaderLen  = 24
	pcapRecordLen  = 16
	// maxPacket bounds a record's captured length: tcpdump's own limit
	// is 262144; anything far beyond is a corrupt length field.
	maxPacket = 1 << 20
)

func (r *Reader) pcapHeader() error {
	b := r.b
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch o.Uint32(b) {
		case pcapMagicMicro:
			r.order, r.tsUnit = o, time.Microsecond
		case pcapMagicNano:
			r.order, r.tsUnit = o, time.Nanosecond
		}
		if r.order != nil {
			break
		}
	}
	if r.order == nil {
		return errAt(0, ErrFormat, "magic %#08x", binary.LittleEndian.Uint32(b))
	}
	if len(b) < pcapHeaderLen {
		return errAt(0, ErrTruncated, "pcap file header is %d of %d bytes", len(b), pcapHeaderLen)
	}
	if major := r.order.Uint16(b[4:]); major != 2 {
		return errAt(0, ErrMalformed, "pcap version %d", major)
	}
	r.snaplen = int(r.order.Uint32(b[16:]))
	// The link type is the low 16 bits; the rest says whether frames
	// carry an FCS (pcap-savefile(5), LinkType and additional information).
	r.linkType = LinkType(r.order.Uint32(b[20:]) & 0xffff)
	r.off = pcapHeaderLen
	return nil
}

func (r *Reader) nextRecord() (Packet, error) {
	off, b := r.off, r.b
	if off == len(b) {
		return Packet{}, io.EOF
	}
	if len(b)-off < pcapRecordLen {
		return Packet{}, errAt(off, ErrTruncated, "record header is %d of %d bytes", len(b)-off, pcapRecordLen)
	}
	h := b[off : off+pcapRecordLen]
	sec, frac := r.order.Uint32(h[0:]), r.order.Uint32(h[4:])
	incl, orig := int(r.order.Uint32(h[8:])), int(r.order.Uint32(h[12:]))
	if incl > maxPacket || incl > orig && orig != 0 {
		return Packet{}, errAt(off, ErrMalformed, "captured length %d (length on the wire %d)", incl, orig)
	}
	if r.tsUnit == time.Microsecond && frac >= 1e6 || frac >= 1e9 {
		return Packet{}, errAt(off, ErrMalformed, "timestamp fraction %d", frac)
	}
	data := off + pcapRecordLen
	if len(b)-data < incl {
		return Packet{}, errAt(off, ErrTruncated, "packet is %d of %d captured bytes", len(b)-data, incl)
	}
	r.off = data + incl
	return Packet{
		Time:     time.Unix(int64(sec), int64(frac)*int64(r.tsUnit)).UTC(),
		LinkType: r.linkType,
		Data:     b[data:r.off:r.off],
		OrigLen:  max(orig, incl),
	}, nil
}
