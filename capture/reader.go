package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Packet is one captured packet.
type Packet struct {
	Time     time.Time
	LinkType LinkType
	Data     []byte // as captured: a view into the capture's bytes
	OrigLen  int    // the packet's length on the wire; more than len(Data) if the capture cut it
}

// Errors a Reader returns, wrapped with where in the capture it was.
var (
	ErrFormat    = errors.New("not a pcap or pcapng capture")
	ErrTruncated = errors.New("capture ends in the middle of a record")
	ErrMalformed = errors.New("malformed capture")
)

// Reader reads packets out of a capture held in memory.
type Reader struct {
	b     []byte
	off   int // where the next record starts
	order binary.ByteOrder
	ng    bool

	// classic pcap
	linkType LinkType
	tsUnit   time.Duration // microsecond or nanosecond
	snaplen  int

	// pcapng: the current section's interfaces
	ifaces []iface
}

// NewReader checks the capture's header and returns a Reader over b.
// The packets it returns are views into b.
func NewReader(b []byte) (*Reader, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("capture: %d bytes: %w", len(b), ErrFormat)
	}
	r := &Reader{b: b}
	if binary.LittleEndian.Uint32(b) == ngSHBType {
		r.ng = true
		return r, nil // the section header is read as the first block
	}
	if err := r.pcapHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Next returns the next packet, or io.EOF after the last.
func (r *Reader) Next() (Packet, error) {
	if r.ng {
		return r.nextBlock()
	}
	return r.nextRecord()
}

// errAt wraps err with the offset of the record it is about.
func errAt(off int, err error, format string, args ...any) error {
	return fmt.Errorf("capture: record at byte %d: %s: %w", off, fmt.Sprintf(format, args...), err)
}

// ReadAll returns every packet of a capture. On an error it returns the
// packets before it too.
func ReadAll(b []byte) ([]Packet, error) {
	r, err := NewReader(b)
	if err != nil {
		return nil, err
	}
	var pkts []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p)
	}
}
