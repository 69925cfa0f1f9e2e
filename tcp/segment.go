package tcp

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// Segment is a parsed TCP segment as the core sees it. Window is the raw
// 16-bit header field; scaling is the connection's job.
type Segment struct {
	Seq     seqnum.Value
	Ack     seqnum.Value
	Flags   wire.Flags
	Window  uint16
	Options wire.Options
	Payload []byte
	// ECN is the IP header's ECN field (RFC 3168 §5): what the packet
	// arrived with, and what the stack puts on the one it sends.
	ECN uint8
}

// Len is the segment's length in sequence space: payload plus one for
// each of SYN and FIN (RFC 9293 §3.4, SEG.LEN).
func (s *Segment) Len() seqnum.Size {
	n := seqnum.Size(len(s.Payload))
	if s.Flags&wire.FlagSYN != 0 {
		n++
	}
	if s.Flags&wire.FlagFIN != 0 {
		n++
	}
	return n
}

func (s *Segment) has(f wire.Flags) bool { return s.Flags&f != 0 }

// Tuple identifies a connection by its two endpoints.
type Tuple struct {
	LocalAddr  netip.Addr
	RemoteAddr netip.Addr
	LocalPort  uint16
	RemotePort uint16
}

// Reverse returns the tuple as seen from the other end.
func (t Tuple) Reverse() Tuple {
	return Tuple{LocalAddr: t.RemoteAddr, RemoteAddr: t.LocalAddr, LocalPort: t.RemotePort, RemotePort: t.LocalPort}
}

// OutSegment is a segment the core wants sent on a tuple.
type OutSegment struct {
	Tuple Tuple
	Seg   Segment
	// SegSize, when not zero, says Seg is a large segment to be sent as
	// segments of SegSize bytes of payload each (the last may be
	// shorter), the PSH and FIN on the last only: the link's segmentation
	// offload, or the runtime, cuts it (Config.MaxSegment).
	SegSize uint16
}

// Output collects the segments produced by one or more calls into the core.
// The payloads refer to connection buffers and are valid only until the next
// call into the connection that produced them, so the caller serializes
// them first and then calls Reset.
type Output struct {
	Segs []OutSegment
}

// Reset empties o, keeping its storage.
func (o *Output) Reset() { o.Segs = o.Segs[:0] }

func (o *Output) push(t Tuple) *Segment {
	if len(o.Segs) < cap(o.Segs) {
		o.Segs = o.Segs[:len(o.Segs)+1]
	} else {
		o.Segs = append(o.Segs, OutSegment{})
	}
	os := &o.Segs[len(o.Segs)-1]
	os.Tuple = t
	os.Seg = Segment{}
	os.SegSize = 0
	return &os.Seg
}
