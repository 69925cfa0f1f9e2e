package ladder

import (
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Side is one of the two hosts of a diagram.
type Side uint8

// The two columns.
const (
	Client Side = iota // drawn on the left
	Server             // drawn on the right
)

// Other returns the other side.
func (s Side) Other() Side { return 1 - s }

func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Kind says what an Event records.
type Kind uint8

// Kinds of event.
const (
	Init  Kind = iota // a host's starting state, shown first (Text)
	Send              // a segment sent (Seg)
	Recv              // a segment received (Seg)
	State             // a state change (From, To)
	Drop              // a segment the stack discarded (Reason, Seg if parsed)
	Note              // what the application did, or what the diagram infers (Text)
)

// MaxData is how much of a payload an event keeps, for display.
const MaxData = 32

// Seg is what the diagram needs of a segment, copied out of the stack's
// buffers or a capture's.
type Seg struct {
	Seq, Ack uint32
	Flags    wire.Flags
	Window   uint16
	Len      int // payload bytes
	Opts     wire.Options
	RawOpts  []byte // the options as on the wire, if known: drawn in their order
	Data     []byte // the payload's first MaxData bytes (fewer if a capture cut it)
}

// SeqLen is the segment's length in sequence space (RFC 9293 §3.4).
func (s *Seg) SeqLen() uint32 {
	n := uint32(s.Len)
	if s.Flags&wire.FlagSYN != 0 {
		n++
	}
	if s.Flags&wire.FlagFIN != 0 {
		n++
	}
	return n
}

// SegOf copies what the diagram needs out of a core segment; nil gives nil.
func SegOf(seg *tcp.Segment) *Seg {
	if seg == nil {
		return nil
	}
	s := &Seg{
		Seq: uint32(seg.Seq), Ack: uint32(seg.Ack), Flags: seg.Flags,
		Window: seg.Window, Len: len(seg.Payload), Opts: seg.Options,
	}
	if len(seg.Payload) > 0 {
		s.Data = append([]byte(nil), seg.Payload[:min(len(seg.Payload), MaxData)]...)
	}
	return s
}

// SegOfWire copies what the diagram needs out of a TCP header view.
// payloadLen is the payload's length on the wire, which may exceed what
// h holds when a capture cut the packet short. Options that do not parse
// are kept raw and drawn as far as they go.
func SegOfWire(h wire.TCP, payloadLen int) *Seg {
	s := &Seg{
		Seq: h.Seq(), Ack: h.Ack(), Flags: h.Flags(), Window: h.Window(), Len: payloadLen,
	}
	_ = h.Options(&s.Opts) // a malformed option shows as "bad" in RawOpts
	if ob := h.OptionBytes(); len(ob) > 0 {
		s.RawOpts = append([]byte(nil), ob...)
	}
	if p := h.Payload(); len(p) > 0 {
		s.Data = append([]byte(nil), p[:min(len(p), MaxData, payloadLen)]...)
	}
	return s
}

// Event is one thing that happened at one host, At after the start.
type Event struct {
	At     time.Duration
	Side   Side
	Kind   Kind
	Tuple  tcp.Tuple // as Side sees it: LocalAddr is Side's own address
	Seg    *Seg
	From   tcp.State
	To     tcp.State
	Reason tcp.DropReason
	Text   string
}

// half names the sending half of a connection: the tuple as its sender
// sees it, plus the sender's side.
type half struct {
	side  Side
	tuple tcp.Tuple
}

func (e *Event) half() half { return half{e.Side, e.Tuple} }

func (h half) peer() half { return half{h.side.Other(), h.tuple.Reverse()} }
