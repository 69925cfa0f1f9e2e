package link

import (
	"sync"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/wire"
)

// Capture wraps l so that every packet written and every packet read is
// also written to p with timestamps from c. Capture is a diagnostic: a
// pcap write error does not fail the link (see PcapWriter.Err). Closing
// the returned Link closes l but not p, which may be shared.
//
// The returned Link has l's offloads. A large segment is recorded as it
// was handed over, one record (as a capture on a Linux device with
// offloads shows it); a partial checksum is recorded completed, as the
// packet will go out.
func Capture(l Link, p *PcapWriter, c clock.Clock) Link {
	if c == nil {
		c = clock.Real
	}
	cp := &capture{Link: l, pcap: p, clk: c}
	cp.olink, cp.off = OffloadsOf(l)
	return cp
}

type capture struct {
	Link
	olink OffloadLink
	off   Offloads
	pcap  *PcapWriter
	clk   clock.Clock

	mu      sync.Mutex
	scratch []byte // a packet whose checksum is completed for the record
}

var _ OffloadLink = (*capture)(nil)

// WritePackets records the packets before handing them to the link, so
// that in a capture shared by both ends of a Pipe a packet's write always
// precedes its read.
func (c *capture) WritePackets(pkts [][]byte) error {
	c.record(pkts, nil)
	return c.Link.WritePackets(pkts)
}

// ReadPackets records what was read, as far as it fit in bufs.
func (c *capture) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	n, err := c.Link.ReadPackets(bufs, sizes)
	c.recordRead(bufs, sizes, nil, n)
	return n, err
}

// Offloads implements OffloadLink.
func (c *capture) Offloads() Offloads { return c.off }

// WritePacketsInfo implements OffloadLink.
func (c *capture) WritePacketsInfo(pkts [][]byte, info []PacketInfo) error {
	if c.olink == nil {
		return c.WritePackets(pkts)
	}
	c.record(pkts, info)
	return c.olink.WritePacketsInfo(pkts, info)
}

// ReadPacketsInfo implements OffloadLink.
func (c *capture) ReadPacketsInfo(bufs [][]byte, sizes []int, info []PacketInfo) (int, error) {
	if c.olink == nil {
		n, err := c.ReadPackets(bufs, sizes)
		clear(info[:min(n, len(info))])
		return n, err
	}
	n, err := c.olink.ReadPacketsInfo(bufs, sizes, info)
	c.recordRead(bufs, sizes, info, n)
	return n, err
}

func (c *capture) recordRead(bufs [][]byte, sizes []int, info []PacketInfo, n int) {
	if n <= 0 {
		return
	}
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range n {
		c.recordLocked(now, bufs[i][:min(sizes[i], len(bufs[i]))], info, i)
	}
}

func (c *capture) record(pkts [][]byte, info []PacketInfo) {
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, pkt := range pkts {
		c.recordLocked(now, pkt, info, i)
	}
}

func (c *capture) recordLocked(now time.Time, pkt []byte, info []PacketInfo, i int) {
	if i < len(info) && info[i].PartialChecksum {
		if ipLen, _, ok := wire.TCPHeaders(pkt); ok {
			c.scratch = append(c.scratch[:0], pkt...)
			wire.CompleteChecksum(c.scratch, ipLen, 16)
			pkt = c.scratch
		}
	}
	c.pcap.WritePacket(now, pkt)
}
