package link

import (
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// Classic pcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html),
// written little-endian; readers detect the byte order from the magic.
const (
	pcapMagic        = 0xa1b2c3d4 // microsecond timestamps
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	pcapLinkTypeRaw  = 101 // LINKTYPE_RAW: the packet starts at the IP header
	pcapMaxSnaplen   = 65535
	pcapHeaderLen    = 24
	pcapRecordLen    = 16
)

// PcapWriter writes packets to a classic pcap stream of raw IP packets.
// It is safe for concurrent use; each record reaches the underlying
// writer in a single Write.
type PcapWriter struct {
	mu      sync.Mutex
	w       io.Writer
	snaplen int
	scratch []byte // record header plus data, reused
	err     error  // first write error; sticky
}

// NewPcapWriter writes the pcap global header to w. Packets are cut to
// snaplen bytes; snaplen <= 0 or above 65535 means 65535.
func NewPcapWriter(w io.Writer, snaplen int) (*PcapWriter, error) {
	if snaplen <= 0 || snaplen > pcapMaxSnaplen {
		snaplen = pcapMaxSnaplen
	}
	var h [pcapHeaderLen]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapMagic)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], pcapVersionMinor)
	// h[8:16] is thiszone and sigfigs, both zero: timestamps are UTC.
	le.PutUint32(h[16:], uint32(snaplen))
	le.PutUint32(h[20:], pcapLinkTypeRaw)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &PcapWriter{w: w, snaplen: snaplen}, nil
}

// WritePacket appends one record stamped t. After a write error every
// call returns that error.
func (p *PcapWriter) WritePacket(t time.Time, pkt []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	incl := min(len(pkt), p.snaplen)
	p.scratch = binary.LittleEndian.AppendUint32(p.scratch[:0], uint32(t.Unix()))
	p.scratch = binary.LittleEndian.AppendUint32(p.scratch, uint32(t.Nanosecond()/1000))
	p.scratch = binary.LittleEndian.AppendUint32(p.scratch, uint32(incl))
	p.scratch = binary.LittleEndian.AppendUint32(p.scratch, uint32(len(pkt)))
	p.scratch = append(p.scratch, pkt[:incl]...)
	_, p.err = p.w.Write(p.scratch)
	return p.err
}

// Err returns the first write error, if any. Capture cannot report pcap
// errors through the Link it wraps, so its users check here.
func (p *PcapWriter) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
