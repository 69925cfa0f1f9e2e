package ladder

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// LiveGeometry is the layout of a live ladder: wall-clock time to the
// microsecond.
var LiveGeometry = Geometry{TimeWidth: 15, ColWidth: 26, LineWidth: 120}

// TracerConfig configures a live ladder.
type TracerConfig struct {
	// Port, if not zero, limits the ladder to connections with this
	// port at either end.
	Port uint16
	// Color draws with ANSI colours.
	Color bool
	// Now is the clock stamping events (default time.Now): the stack
	// does not pass its time to a Tracer.
	Now func() time.Time
}

// Tracer is a threeway.Tracer that draws each connection's segments and
// state changes to a writer as they happen: the stack's end on the left,
// the peer's on the right, the peer's state inferred from the segments.
// When the next event belongs to another connection than the last, a
// line names it. It is safe for concurrent use by several stacks.
//
// A stack calls its Tracer with its lock held, so each event is written
// to w before the stack moves on: give it a writer that does not block
// for long (stderr, a buffer). After a write error it draws nothing more
// (see Err).
type Tracer struct {
	cfg TracerConfig

	mu    sync.Mutex
	w     io.Writer
	err   error // first write error; later events are not drawn
	start time.Time
	d     *Drawer
	conns map[tcp.Tuple]*liveConn
	last  tcp.Tuple // connection of the last event drawn
	began bool
}

// liveConn is what the tracer keeps per connection.
type liveConn struct {
	peer    endState
	started bool // the peer's starting state has been drawn
}

// NewTracer returns a Tracer drawing to w.
func NewTracer(w io.Writer, cfg TracerConfig) *Tracer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Tracer{cfg: cfg, w: w, conns: map[tcp.Tuple]*liveConn{}}
	return t
}

var _ threeway.Tracer = (*Tracer)(nil)

// Err returns the first error writing the ladder, if any.
func (t *Tracer) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *Tracer) wants(tu tcp.Tuple) bool {
	return t.cfg.Port == 0 || tu.LocalPort == t.cfg.Port || tu.RemotePort == t.cfg.Port
}

// Segment draws a segment the stack sent or received.
func (t *Tracer) Segment(dir threeway.Direction, tu tcp.Tuple, seg *tcp.Segment) {
	if !t.wants(tu) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	c := t.conn(tu)
	s := SegOf(seg)
	if dir == threeway.Outbound {
		t.startPeer(tu, c, now, s, false)
		t.draw(tu, Event{At: now, Side: Client, Kind: Send, Tuple: tu, Seg: s})
		t.peerChanges(tu, now, c.peer.received(s))
		return
	}
	t.startPeer(tu, c, now, s, true)
	t.peerChanges(tu, now, c.peer.sent(s))
	t.draw(tu, Event{At: now, Side: Server, Kind: Send, Tuple: tu.Reverse(), Seg: s})
}

// StateChanged draws the stack's connection changing state.
func (t *Tracer) StateChanged(tu tcp.Tuple, from, to tcp.State) {
	if !t.wants(tu) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(tu, Event{At: t.now(), Side: Client, Kind: State, Tuple: tu, From: from, To: to})
	if to == tcp.Closed {
		delete(t.conns, tu) // the tuple may be used again
	}
}

// Dropped draws a segment the stack discarded.
func (t *Tracer) Dropped(tu tcp.Tuple, seg *tcp.Segment, reason tcp.DropReason) {
	// A segment dropped before it was matched to a connection has no
	// tuple: it is shown only when every connection is.
	if tu == (tcp.Tuple{}) && t.cfg.Port != 0 || tu != (tcp.Tuple{}) && !t.wants(tu) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(tu, Event{At: t.now(), Side: Client, Kind: Drop, Tuple: tu, Seg: SegOf(seg), Reason: reason})
}

func (t *Tracer) now() time.Duration {
	n := t.cfg.Now()
	if t.start.IsZero() {
		t.start = n
		st := Style{
			Names: [2]string{"threeway", "peer"}, Color: t.cfg.Color, Geometry: LiveGeometry,
			TimeHeading: "time", Observed: true,
			TimeLabel: func(d time.Duration) string { return t.start.Add(d).Format("15:04:05.000000") },
		}
		t.d = NewDrawer(st)
	}
	return n.Sub(t.start)
}

// maxLiveConns bounds what the tracer remembers: a connection that never
// reports CLOSED (a stack closed under it) is forgotten when the map is
// full, and only its peer's inferred state starts over.
const maxLiveConns = 1 << 16

func (t *Tracer) conn(tu tcp.Tuple) *liveConn {
	c := t.conns[tu]
	if c == nil {
		if len(t.conns) >= maxLiveConns {
			clear(t.conns)
		}
		c = &liveConn{}
		t.conns[tu] = c
	}
	return c
}

// startPeer draws the peer's starting state before its first segment:
// CLOSED if it opens with a SYN, LISTEN if the stack does, and assumed
// ESTABLISHED if the connection is already under way.
func (t *Tracer) startPeer(tu tcp.Tuple, c *liveConn, at time.Duration, s *Seg, inbound bool) {
	if c.started {
		return
	}
	c.started = true
	syn := s.Flags&wire.FlagSYN != 0 && s.Flags&wire.FlagACK == 0
	text := "ESTABLISHED (assumed)"
	switch {
	case syn && inbound:
		c.peer.st, text = tcp.Closed, "CLOSED"
	case syn:
		c.peer.st, text = tcp.Listen, fmt.Sprintf("LISTEN (port %d)", tu.RemotePort)
	default:
		c.peer.st = tcp.Established
	}
	t.draw(tu, Event{At: at, Side: Server, Kind: Init, Tuple: tu.Reverse(), Text: text})
}

func (t *Tracer) peerChanges(tu tcp.Tuple, at time.Duration, chs []change) {
	for _, ch := range chs {
		t.draw(tu, Event{At: at, Side: Server, Kind: State, Tuple: tu.Reverse(), From: ch.from, To: ch.to})
	}
}

// draw writes e's lines, after the column titles the first time and a
// line naming the connection when it is not the last event's.
func (t *Tracer) draw(tu tcp.Tuple, e Event) {
	if t.err != nil {
		return
	}
	var lines []string
	if !t.began {
		t.began = true
		lines = append(lines, t.d.Title([2]string{"(this stack)", "(remote end)"})...)
	}
	if tu != t.last && tu != (tcp.Tuple{}) {
		t.last = tu
		name := fmt.Sprintf("── %v ⇄ %v ──", netip.AddrPortFrom(tu.LocalAddr, tu.LocalPort), netip.AddrPortFrom(tu.RemoteAddr, tu.RemotePort))
		lines = append(lines, strings.Repeat(" ", t.d.g.TimeWidth+1)+paint(t.d.st.Color, sgrBold, name))
	}
	lines = append(lines, t.d.Draw(&e, nil, false)...)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, t.err = io.WriteString(t.w, b.String())
}
