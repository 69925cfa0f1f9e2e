package host

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// Offloads are what the link does for the host's packets (see
// link.Offloads): complete TCP checksums, cut large TCP segments.
type Offloads struct {
	Checksum   bool
	TSO4, TSO6 bool
	MaxPacket  int
}

// Config configures a Host. Env is required.
type Config struct {
	Env      *tcp.Env
	MTU      int // the link's
	Offloads Offloads
	Addrs    []netip.Prefix
	Routes   []Route // nil: a default route per family
	Spoofing bool    // dials may use local addresses the host does not own
	Tracer   Tracer
	Seed     [32]byte // for port and identifier choice (RFC 6056 §3.3.1)
}

// Host is one IP host on one link. It is not safe for concurrent use.
type Host struct {
	env       *tcp.Env
	mtu       int
	offloads  Offloads
	trace     Tracer
	icmpTrace ICMPTracer
	rng       *rand.Rand
	addrs     []netip.Prefix
	routes    []Route

	conns     map[tcp.Tuple]*Conn
	listeners map[Key]*Listener
	timers    timerHeap
	transparent
	udp  udpTable
	ping map[pingKey]*Socket

	out       tcp.Output
	dirty     []*Conn
	closedCh  []*tcp.Conn
	rxSeg     tcp.Segment
	rxTrusted bool
	tx        txQueue
	ipID      uint16
	icmpLimit icmpLimiter
	events    []Event
	spare     []Event
	stats     Stats
}

// New returns a Host.
func New(cfg Config) *Host {
	h := &Host{
		env:       cfg.Env,
		mtu:       cfg.MTU,
		offloads:  cfg.Offloads,
		trace:     cfg.Tracer,
		rng:       rand.New(rand.NewChaCha8(cfg.Seed)),
		addrs:     append([]netip.Prefix(nil), cfg.Addrs...),
		routes:    append([]Route(nil), cfg.Routes...),
		conns:     make(map[tcp.Tuple]*Conn),
		listeners: make(map[Key]*Listener),
	}
	if cfg.Routes == nil {
		h.routes = append(h.routes, defaultRoutes...)
	}
	h.transparent.spoofing = cfg.Spoofing
	h.icmpTrace, _ = cfg.Tracer.(ICMPTracer)
	h.env.Observer = observer{h}
	h.tx.init(h.PacketSize())
	return h
}

// Env is the TCP core's environment: its configuration and counters.
func (h *Host) Env() *tcp.Env { return h.env }

// MTU is the link's MTU.
func (h *Host) MTU() int { return h.mtu }

// PacketSize is the largest packet the host reads or writes: the MTU, or
// the link's MaxPacket when it carries large segments.
func (h *Host) PacketSize() int { return max(h.mtu, h.offloads.MaxPacket) }

// Conns is the connection table, for inspection. It is the Host's own
// map: callers must not change it.
func (h *Host) Conns() map[tcp.Tuple]*Conn { return h.conns }

// Advance runs every timer due at now: connections' retransmissions,
// delayed ACKs, keep-alives, TIME-WAIT ends, and forward requests'
// decision deadlines.
func (h *Host) Advance(now time.Duration) {
	for {
		c := h.timers.due(now)
		if c == nil {
			break
		}
		h.Touch(c)
	}
	h.expireForwards(now)
	h.Flush(now)
}

// Deadline is when Advance next has work, or tcp.Never.
func (h *Host) Deadline() time.Duration {
	return min(h.timers.earliest(), h.forwardDeadline())
}

// Flush polls every touched connection, turns what the core produced
// into packets and collects the connections' events.
func (h *Host) Flush(now time.Duration) {
	for i := 0; i < len(h.dirty); i++ {
		h.dirty[i].tcb.Poll(now, &h.out)
	}
	h.sendOutput()
	for i := 0; i < len(h.dirty); i++ {
		c := h.dirty[i]
		c.dirty = false
		h.connEvents(c)
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
	h.sendOutput()
}

// Close aborts every connection (each synchronized peer gets a RST) and
// forgets every listener, socket and forwarder. What it sends is in
// TakeOutput.
func (h *Host) Close(now time.Duration) {
	for _, c := range h.conns {
		c.tcb.Abort(now, &h.out)
		h.Touch(c)
	}
	h.Flush(now)
	for _, f := range h.transparent.forwarders {
		h.closeForwarder(now, f)
	}
	h.out.Reset() // forwarders' last words: the link is going away
	clear(h.conns)
	clear(h.listeners)
	clear(h.udp.socks)
	clear(h.ping)
	h.timers = h.timers[:0]
}
