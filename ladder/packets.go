package ladder

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Conn is one TCP connection found in a capture.
type Conn struct {
	Index          int
	Client, Server netip.AddrPort // the client sent the first SYN (or, without one, has the higher port)
	First, Last    time.Time
	Segs           []capture.Segment
	Bytes          [2]int64 // payload bytes sent by the client and by the server
	SYN, FIN, RST  bool     // whether any segment carried these
}

// Side returns which side sent s.
func (c *Conn) Side(s *capture.Segment) Side {
	if s.Src == c.Client {
		return Client
	}
	return Server
}

// Tuple returns the connection's tuple as side s sees it.
func (c *Conn) Tuple(s Side) tcp.Tuple {
	t := tcp.Tuple{LocalAddr: c.Client.Addr(), LocalPort: c.Client.Port(), RemoteAddr: c.Server.Addr(), RemotePort: c.Server.Port()}
	if s == Server {
		return t.Reverse()
	}
	return t
}

func (c *Conn) String() string { return fmt.Sprintf("%v -> %v", c.Client, c.Server) }

type pairKey struct{ a, b netip.AddrPort }

func pairOf(s *capture.Segment) pairKey {
	a, b := s.Src, s.Dst
	if a.Addr().Less(b.Addr()) || a.Addr() == b.Addr() && a.Port() < b.Port() {
		return pairKey{a, b}
	}
	return pairKey{b, a}
}

// Conns groups segments into connections, in the order each began. A
// 4-tuple reused for a new connection (a SYN with a new initial sequence
// number) starts a new Conn.
func Conns(segs []capture.Segment) []*Conn {
	var conns []*Conn
	open := map[pairKey]*Conn{}
	isn := map[*Conn]uint32{}
	for i := range segs {
		s := &segs[i]
		k := pairOf(s)
		f := s.TCP.Flags()
		pureSYN := f&wire.FlagSYN != 0 && f&wire.FlagACK == 0
		c := open[k]
		if c != nil && pureSYN && c.SYN && s.Src == c.Client && s.TCP.Seq() != isn[c] {
			c = nil // the tuple's next connection
		}
		if c == nil {
			c = &Conn{Index: len(conns), First: s.Time, Client: s.Src, Server: s.Dst}
			if !pureSYN && s.Src.Port() < s.Dst.Port() {
				c.Client, c.Server = s.Dst, s.Src
			}
			conns = append(conns, c)
			open[k] = c
		}
		if pureSYN && !c.SYN {
			c.SYN, c.Client, c.Server = true, s.Src, s.Dst
			isn[c] = s.TCP.Seq()
		}
		c.Last = s.Time
		c.Segs = append(c.Segs, *s)
		c.Bytes[c.Side(s)] += int64(s.PayloadLen)
		c.FIN = c.FIN || f&wire.FlagFIN != 0
		c.RST = c.RST || f&wire.FlagRST != 0
	}
	return conns
}

// Events turns the connection's segments into a ladder's events, in
// drawing order: each segment as a send by its side, with the state
// changes the segment shows its sender made before it and its receiver
// made on receiving it. Draw them with Style.Observed set.
func (c *Conn) Events() []Event {
	var ends [2]endState
	var evs []Event
	initial := [2]string{"CLOSED", "CLOSED"}
	switch {
	case !c.SYN && len(c.Segs) > 0 && c.Segs[0].TCP.Flags()&wire.FlagSYN == 0:
		// The capture began after the handshake.
		ends[Client].st, ends[Server].st = tcp.Established, tcp.Established
		initial = [2]string{"ESTABLISHED (assumed)", "ESTABLISHED (assumed)"}
	default:
		// The server was listening unless its first word was its own
		// SYN (a simultaneous open) or a reset.
		for i := range c.Segs {
			s := &c.Segs[i]
			if c.Side(s) != Server {
				continue
			}
			if f := s.TCP.Flags(); f&wire.FlagSYN != 0 && f&wire.FlagACK != 0 {
				ends[Server].st, initial[Server] = tcp.Listen, fmt.Sprintf("LISTEN (port %d)", c.Server.Port())
				if !c.SYN { // the SYN it answers was not captured
					ends[Client].st, ends[Client].synSent = tcp.SynSent, true
					ends[Client].iss = s.TCP.Ack() - 1
					initial[Client] = "SYN-SENT (assumed)"
				}
			}
			break
		}
	}
	for s := range 2 {
		evs = append(evs, Event{Side: Side(s), Kind: Init, Tuple: c.Tuple(Side(s)), Text: initial[s]})
	}
	// What the last segment's receipt changed: if its sender sends the
	// same segment again before the receiver says anything, the first
	// copy was probably lost past the capture point, and the changes
	// move to the copy that got through.
	var moved struct {
		from       Side
		seq        uint32
		len        int
		flags      wire.Flags
		start, end int // the change events in evs
	}
	moved.end = -1
	for i := range c.Segs {
		s := &c.Segs[i]
		at := s.Time.Sub(c.First)
		from := c.Side(s)
		seg := SegOfWire(s.TCP, s.PayloadLen)
		for _, ch := range ends[from].sent(seg) {
			evs = append(evs, Event{At: at, Side: from, Kind: State, Tuple: c.Tuple(from), From: ch.from, To: ch.to})
		}
		again := moved.end > moved.start && from == moved.from && seg.Seq == moved.seq && seg.Len == moved.len && seg.Flags == moved.flags && moved.end == len(evs)
		var changes []Event
		if again {
			changes = append(changes, evs[moved.start:moved.end]...)
			evs = evs[:moved.start]
		}
		evs = append(evs, Event{At: at, Side: from, Kind: Send, Tuple: c.Tuple(from), Seg: seg})
		to := from.Other()
		for _, ch := range ends[to].received(seg) {
			changes = append(changes, Event{Side: to, Kind: State, Tuple: c.Tuple(to), From: ch.from, To: ch.to})
		}
		start := len(evs)
		for _, e := range changes {
			e.At = at
			evs = append(evs, e)
		}
		if len(changes) > 0 {
			moved.from, moved.seq, moved.len, moved.flags = from, seg.Seq, seg.Len, seg.Flags
			moved.start, moved.end = start, len(evs)
		}
	}
	return evs
}

// CaptureGeometry is the layout for captures: microseconds shown, so a
// wider time column.
var CaptureGeometry = Geometry{TimeWidth: 9, ColWidth: 26, LineWidth: 114}

// CaptureTimeLabel formats a capture's time column: milliseconds to the
// microsecond, or seconds past 100 s.
func CaptureTimeLabel(d time.Duration) string {
	if d < 100*time.Second {
		return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// CaptureStyle is the style for drawing a capture's connection.
func CaptureStyle(color bool) Style {
	return Style{
		Color: color, Geometry: CaptureGeometry, TimeLabel: CaptureTimeLabel, Observed: true,
	}
}

// Marks says what the diagram notes about one segment of a capture.
type Marks struct {
	Retransmission bool // resends sequence space seen before
	OutOfOrder     bool // fills a hole below data seen before, for the first time
	AfterGap       bool // starts above everything seen: the segment before it was not seen
	DupAck         int  // the nth duplicate ACK in a row (RFC 5681 §2), 0 if none
	SACKBlocks     int  // SACK blocks carried (RFC 2018)
}

// Marks returns the marks of each of the connection's segments, as the
// ladder draws them.
func (c *Conn) Marks() []Marks {
	an := newAnalyzer(true)
	out := make([]Marks, len(c.Segs))
	for i := range c.Segs {
		s := &c.Segs[i]
		side := c.Side(s)
		e := Event{Side: side, Kind: Send, Tuple: c.Tuple(side), Seg: SegOfWire(s.TCP, s.PayloadLen)}
		m := an.mark(&e)
		out[i] = Marks{m.retrans, m.outOrder, m.afterGap, m.dupAck, m.sack}
	}
	return out
}
