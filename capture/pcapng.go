package capture

import (
	"encoding/binary"
	"io"
	"math"
	"time"
)

// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html):
// a sequence of blocks, each type, total length, body, total length again,
// padded to 32 bits. A Section Header Block starts each section and sets
// its byte order; Interface Description Blocks name the link type and
// timestamp unit of the interfaces packets refer to by index.
const (
	ngSHBType      = 0x0a0d0d0a
	ngIDBType      = 0x00000001
	ngOPBType      = 0x00000002 // obsolete Packet Block
	ngSPBType      = 0x00000003 // Simple Packet Block
	ngEPBType      = 0x00000006 // Enhanced Packet Block
	ngByteOrder    = 0x1a2b3c4d
	ngMinBlock     = 12
	ngOptEnd       = 0
	ngOptTSResol   = 9  // if_tsresol
	ngOptTSOffset  = 14 // if_tsoffset
	ngMaxBlock     = 16 << 20
	ngDefaultUnits = 1e6 // microseconds unless if_tsresol says otherwise
)

// iface is what an Interface Description Block says.
type iface struct {
	linkType LinkType
	snaplen  int
	perSec   float64 // timestamp units per second
	offset   int64   // seconds to add to every timestamp
}

// nextBlock reads blocks until one holds a packet.
func (r *Reader) nextBlock() (Packet, error) {
	for {
		off, b := r.off, r.b
		if off == len(b) {
			return Packet{}, io.EOF
		}
		if len(b)-off < ngMinBlock {
			return Packet{}, errAt(off, ErrTruncated, "block header is %d of %d bytes", len(b)-off, ngMinBlock)
		}
		typ := binary.LittleEndian.Uint32(b[off:]) // the SHB's type reads the same either way
		if typ == ngSHBType {
			if err := r.sectionHeader(off); err != nil {
				return Packet{}, err
			}
		} else if r.order == nil {
			return Packet{}, errAt(off, ErrMalformed, "block before the section header")
		} else {
			typ = r.order.Uint32(b[off:])
		}
		n := int(r.order.Uint32(b[off+4:]))
		if n < ngMinBlock || n%4 != 0 || n > ngMaxBlock {
			return Packet{}, errAt(off, ErrMalformed, "block length %d", n)
		}
		if len(b)-off < n {
			return Packet{}, errAt(off, ErrTruncated, "block is %d of %d bytes", len(b)-off, n)
		}
		if trailer := int(r.order.Uint32(b[off+n-4:])); trailer != n {
			return Packet{}, errAt(off, ErrMalformed, "block length %d, trailer says %d", n, trailer)
		}
		body := b[off+8 : off+n-4]
		r.off = off + n
		var (
			p   Packet
			ok  bool
			err error
		)
		switch typ {
		case ngSHBType:
			r.ifaces = r.ifaces[:0]
		case ngIDBType:
			err = r.interfaceBlock(off, body)
		case ngEPBType:
			p, ok, err = r.enhancedPacket(off, body)
		case ngSPBType:
			p, ok, err = r.simplePacket(off, body)
		case ngOPBType:
			p, ok, err = r.obsoletePacket(off, body)
		}
		if err != nil || ok {
			return p, err
		}
	}
}

// sectionHeader learns the byte order of the section starting at off.
func (r *Reader) sectionHeader(off int) error {
	b := r.b
	if len(b)-off < 16 {
		return errAt(off, ErrTruncated, "section header is %d of 16 bytes", len(b)-off)
	}
	switch {
	case binary.LittleEndian.Uint32(b[off+8:]) == ngByteOrder:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(b[off+8:]) == ngByteOrder:
		r.order = binary.BigEndian
	default:
		return errAt(off, ErrFormat, "pcapng byte-order magic %#08x", binary.LittleEndian.Uint32(b[off+8:]))
	}
	if major := r.order.Uint16(b[off+12:]); major != 1 {
		return errAt(off, ErrMalformed, "pcapng version %d", major)
	}
	return nil
}

func (r *Reader) interfaceBlock(off int, body []byte) error {
	if len(body) < 8 {
		return errAt(off, ErrMalformed, "interface description of %d bytes", len(body))
	}
	ifc := iface{
		linkType: LinkType(r.order.Uint16(body)),
		snaplen:  int(r.order.Uint32(body[4:])),
		perSec:   ngDefaultUnits,
	}
	err := r.options(off, body[8:], func(code uint16, v []byte) error {
		switch {
		case code == ngOptTSResol && len(v) == 1:
			// The high bit picks base 2, else base 10; the rest is the
			// negative exponent.
			e := float64(v[0] & 0x7f)
			if v[0]&0x80 != 0 {
				ifc.perSec = math.Pow(2, e)
			} else {
				ifc.perSec = math.Pow(10, e)
			}
			if e > 19 && v[0]&0x80 == 0 || e > 63 { // units must fit in 64 bits
				return errAt(off, ErrMalformed, "if_tsresol %#02x", v[0])
			}
		case code == ngOptTSOffset && len(v) == 8:
			ifc.offset = int64(r.order.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// options walks a block's options: code, length, value padded to 32 bits.
func (r *Reader) options(off int, b []byte, f func(code uint16, v []byte) error) error {
	for len(b) >= 4 {
		code, n := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		if code == ngOptEnd {
			return nil
		}
		padded := (n + 3) &^ 3
		if len(b)-4 < padded {
			return errAt(off, ErrMalformed, "option %d of %d bytes runs past its block", code, n)
		}
		if err := f(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[4+padded:]
	}
	return nil
}

func (r *Reader) iface(off int, id uint32) (*iface, error) {
	if int64(id) >= int64(len(r.ifaces)) {
		return nil, errAt(off, ErrMalformed, "packet on interface %d of %d", id, len(r.ifaces))
	}
	return &r.ifaces[id], nil
}

// stamp turns a 64-bit timestamp in ifc's units into a time.
func (ifc *iface) stamp(ts uint64) time.Time {
	sec := ts / uint64(ifc.perSec)
	frac := ts % uint64(ifc.perSec)
	ns := int64(float64(frac) * 1e9 / ifc.perSec)
	return time.Unix(int64(sec)+ifc.offset, ns).UTC()
}

// packet checks a packet's lengths against its block.
func (r *Reader) packet(off int, ifc *iface, ts uint64, data []byte, incl, orig int) (Packet, bool, error) {
	if incl > len(data) || incl > maxPacket {
		return Packet{}, false, errAt(off, ErrMalformed, "captured length %d in a block with room for %d", incl, len(data))
	}
	return Packet{
		Time:     ifc.stamp(ts),
		LinkType: ifc.linkType,
		Data:     data[:incl:incl],
		OrigLen:  max(orig, incl),
	}, true, nil
}

func (r *Reader) enhancedPacket(off int, body []byte) (Packet, bool, error) {
	if len(body) < 20 {
		return Packet{}, false, errAt(off, ErrMalformed, "enhanced packet block of %d bytes", len(body))
	}
	ifc, err := r.iface(off, r.order.Uint32(body))
	if err != nil {
		return Packet{}, false, err
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	incl, orig := int(r.order.Uint32(body[12:])), int(r.order.Uint32(body[16:]))
	return r.packet(off, ifc, ts, body[20:], incl, orig)
}

// obsoletePacket reads the Packet Block pcapng replaced with the EPB: a
// 16-bit interface id and a 16-bit drop count where the EPB has its id.
func (r *Reader) obsoletePacket(off int, body []byte) (Packet, bool, error) {
	if len(body) < 20 {
		return Packet{}, false, errAt(off, ErrMalformed, "packet block of %d bytes", len(body))
	}
	ifc, err := r.iface(off, uint32(r.order.Uint16(body)))
	if err != nil {
		return Packet{}, false, err
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	incl, orig := int(r.order.Uint32(body[12:])), int(r.order.Uint32(body[16:]))
	return r.packet(off, ifc, ts, body[20:], incl, orig)
}

// simplePacket reads a Simple Packet Block: interface 0, no timestamp,
// captured length the original cut to the snap length.
func (r *Reader) simplePacket(off int, body []byte) (Packet, bool, error) {
	if len(body) < 4 {
		return Packet{}, false, errAt(off, ErrMalformed, "simple packet block of %d bytes", len(body))
	}
	ifc, err := r.iface(off, 0)
	if err != nil {
		return Packet{}, false, err
	}
	orig := int(r.order.Uint32(body))
	incl := min(orig, len(body)-4)
	if ifc.snaplen > 0 {
		incl = min(incl, ifc.snaplen)
	}
	p, ok, err := r.packet(off, ifc, 0, body[4:], incl, orig)
	p.Time = time.Time{}
	return p, ok, err
}
