package link

import "github.com/threeway-tcp/threeway/clock"

// Capture wraps l so that every packet written and every packet read is
// also written to p with timestamps from c. Capture is a diagnostic: a
// pcap write error does not fail the link (see PcapWriter.Err). Closing
// the returned Link closes l but not p, which may be shared.
func Capture(l Link, p *PcapWriter, c clock.Clock) Link {
	if c == nil {
		c = clock.Real
	}
	return &capture{Link: l, pcap: p, clk: c}
}

type capture struct {
	Link
	pcap *PcapWriter
	clk  clock.Clock
}

// WritePackets records the packets before handing them to the link, so
// that in a capture shared by both ends of a Pipe a packet's write always
// precedes its read.
func (c *capture) WritePackets(pkts [][]byte) error {
	now := c.clk.Now()
	for _, pkt := range pkts {
		c.pcap.WritePacket(now, pkt)
	}
	return c.Link.WritePackets(pkts)
}

// ReadPackets records what was read, as far as it fit in bufs.
func (c *capture) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	n, err := c.Link.ReadPackets(bufs, sizes)
	if n > 0 {
		now := c.clk.Now()
		for i := range n {
			c.pcap.WritePacket(now, bufs[i][:sizes[i]])
		}
	}
	return n, err
}
