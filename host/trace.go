package host

import "github.com/threeway-tcp/threeway/tcp"

// Direction tells a Tracer which way a segment went.
type Direction uint8

// Directions.
const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "in"
	}
	return "out"
}

// Tracer hears about everything the host does: every TCP segment in and
// out, every state change, every drop, every ICMP message sent. Calls
// are made from inside Host methods: a Tracer must not call back into the
// host (or the runtime that holds its lock).
type Tracer interface {
	Segment(dir Direction, t tcp.Tuple, seg *tcp.Segment)
	StateChanged(t tcp.Tuple, from, to tcp.State)
	Dropped(t tcp.Tuple, seg *tcp.Segment, reason tcp.DropReason)
}

// ICMPTracer is a Tracer that also hears about ICMP messages the host
// sends; pkt is the whole IP packet.
type ICMPTracer interface {
	ICMP(dir Direction, typ, code uint8, pkt []byte)
}

// observer adapts the core's Observer to the host's Tracer.
type observer struct{ h *Host }

func (o observer) StateChanged(c *tcp.Conn, from, to tcp.State) {
	if o.h.trace != nil {
		o.h.trace.StateChanged(c.Tuple(), from, to)
	}
}

func (o observer) Dropped(t tcp.Tuple, seg *tcp.Segment, r tcp.DropReason) {
	if o.h.trace != nil {
		o.h.trace.Dropped(t, seg, r)
	}
}
