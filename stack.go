package threeway

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// Stack is a userspace TCP/IP stack on one link.
type Stack struct {
	mu        sync.Mutex
	clk       clock.Clock
	hold      clock.Holder // the clock, if it can be held (a clock.Sim)
	realClock bool
	epoch     time.Time
	link      link.Link
	olink     link.OffloadLink // link, when it has offloads
	offloads  link.Offloads
	addrs     []netip.Prefix
	routes    []Route
	env       *tcp.Env
	trace     Tracer
	rng       *rand.Rand

	conns     map[tcp.Tuple]*Conn
	listeners map[listenKey]*Listener
	// transparent: forwarders and connections on addresses not owned.
	transparent transparentState
	timers      timerHeap
	timer       clock.Timer
	timerAt     time.Duration

	out       tcp.Output
	dirty     []*Conn
	tx        txBatch
	rxSeg     tcp.Segment
	rxTrusted bool // the packet being input needs no checksum check (link.PacketInfo)
	closedCh  []*tcp.Conn
	ipID      uint16
	icmpLimit icmpLimiter
	udp       udpTable
	ping      map[pingKey]*PingConn

	closed    bool
	done      chan struct{}
	readerWG  sync.WaitGroup
	closeOnce sync.Once
}

// New starts a stack on opts.Link.
func New(opts Options) (*Stack, error) {
	if opts.Link == nil {
		return nil, errors.New("threeway: Options.Link is required")
	}
	if len(opts.Addrs) == 0 {
		return nil, errors.New("threeway: Options.Addrs is empty")
	}
	for _, p := range opts.Addrs {
		if !p.IsValid() {
			return nil, fmt.Errorf("threeway: invalid address %v", p)
		}
	}
	var secret [16]byte
	if opts.ISNSecret != nil {
		secret = *opts.ISNSecret
	} else if _, err := crand.Read(secret[:]); err != nil {
		return nil, err
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real
	}
	cfg := opts.TCP
	cfg.MTU = opts.Link.MTU()
	olink, offloads := link.OffloadsOf(opts.Link)
	if cfg.MaxSegment == 0 && (offloads.TSO4 || offloads.TSO6) {
		// The link cuts large segments: let the core build them, as
		// large as the link takes with room for the IP and TCP headers.
		cfg.MaxSegment = offloads.MaxPacket - maxHeaders
	}
	s := &Stack{
		clk:       clk,
		epoch:     clk.Now(),
		link:      opts.Link,
		olink:     olink,
		offloads:  offloads,
		addrs:     append([]netip.Prefix(nil), opts.Addrs...),
		routes:    append([]Route(nil), opts.Routes...),
		env:       tcp.NewEnv(cfg, secret),
		trace:     opts.Tracer,
		conns:     make(map[tcp.Tuple]*Conn),
		listeners: make(map[listenKey]*Listener),
		timerAt:   tcp.Never,
		done:      make(chan struct{}),
	}
	var seed [32]byte
	copy(seed[:], secret[:])
	seed[31] = 'p'
	s.rng = rand.New(rand.NewChaCha8(seed))
	if opts.Routes == nil {
		s.routes = append(s.routes, defaultRoutes...)
	}
	s.transparent.spoofing = opts.Spoofing
	s.env.Observer = observer{s}
	s.hold, _ = clk.(clock.Holder)
	s.realClock = clk == clock.Real
	s.tx.init(s.packetSize())
	s.readerWG.Add(1)
	go s.readLoop()
	return s, nil
}

// Clock returns the stack's clock; deadlines are in its time.
func (s *Stack) Clock() clock.Clock { return s.clk }

// Addrs returns the stack's addresses.
func (s *Stack) Addrs() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Prefix(nil), s.addrs...)
}

// now is the stack's time: how long since it started. On the real clock
// time.Since reads only the monotonic clock, which is cheaper than Now.
func (s *Stack) now() time.Duration {
	if s.realClock {
		return time.Since(s.epoch)
	}
	return s.clk.Now().Sub(s.epoch)
}

// Close aborts every connection (each synchronized peer gets a RST),
// closes every listener, stops the stack's goroutine and closes the link.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		now := s.now()
		for _, c := range s.conns {
			c.tcb.Abort(now, &s.out)
			s.markDirty(c)
		}
		s.flushLocked(now)
		s.closed = true
		for _, l := range s.listeners {
			l.closeLocked()
		}
		for _, c := range s.conns {
			c.wakeAll()
		}
		s.conns = map[tcp.Tuple]*Conn{}
		s.listeners = map[listenKey]*Listener{}
		if s.timer != nil {
			s.timer.Stop()
		}
		close(s.done)
		s.mu.Unlock()
		s.link.Close()
		s.readerWG.Wait()
	})
	return nil
}

// readLoop is the stack's one goroutine: it reads batches from the link
// and feeds them to the core.
func (s *Stack) readLoop() {
	defer s.readerWG.Done()
	const batch = 64
	size := max(s.packetSize(), 1280)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, size+64)
	}
	sizes := make([]int, batch)
	info := make([]link.PacketInfo, batch)
	for {
		var n int
		var err error
		if s.olink != nil {
			n, err = s.olink.ReadPacketsInfo(bufs, sizes, info)
		} else {
			n, err = s.link.ReadPackets(bufs, sizes)
		}
		if err != nil {
			if errors.Is(err, link.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			case <-time.After(time.Millisecond):
				// A lasting link error must not spin the CPU.
			}
			continue
		}
		s.holdClock()
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			s.releaseClock()
			return
		}
		now := s.now()
		for i := 0; i < n; i++ {
			if sizes[i] > len(bufs[i]) {
				s.dropPacket(tcp.DropMalformed) // truncated by the link
				continue
			}
			if info[i].Err != nil {
				s.dropPacket(tcp.DropBadOffloadHeader)
				continue
			}
			// A partial checksum marks a packet of the local host that
			// never crossed a wire; DATA_VALID one the link checked.
			s.rxTrusted = info[i].PartialChecksum || info[i].ChecksumValid
			s.inputPacket(now, bufs[i][:sizes[i]])
			s.rxTrusted = false
		}
		clear(info[:n])
		s.flushLocked(now)
		s.mu.Unlock()
		s.releaseClock()
	}
}

// packetSize is the largest packet the stack reads or writes: the MTU, or
// the link's MaxPacket when it carries large segments.
func (s *Stack) packetSize() int {
	return max(s.link.MTU(), s.offloads.MaxPacket)
}

// holdClock keeps a simulated clock from jumping while the stack works
// on what it was given, so a conversation on simulated time does not
// depend on how fast the stack's goroutine gets scheduled.
func (s *Stack) holdClock() {
	if s.hold != nil {
		s.hold.Hold()
	}
}

func (s *Stack) releaseClock() {
	if s.hold != nil {
		s.hold.Release()
	}
}

// markDirty remembers that c was touched, so flushLocked polls it.
func (s *Stack) markDirty(c *Conn) {
	if !c.dirty {
		c.dirty = true
		s.dirty = append(s.dirty, c)
	}
}

// flushLocked polls every touched connection, sends what they produced,
// reacts to their events and re-arms the timer.
func (s *Stack) flushLocked(now time.Duration) {
	for i := 0; i < len(s.dirty); i++ {
		c := s.dirty[i]
		c.tcb.Poll(now, &s.out)
	}
	s.sendOutput()
	for i := 0; i < len(s.dirty); i++ {
		c := s.dirty[i]
		c.dirty = false
		s.handleEvents(now, c)
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	s.sendOutput()
	s.armTimer(now)
}

// handleEvents wakes waiters and retires closed connections.
func (s *Stack) handleEvents(now time.Duration, c *Conn) {
	ev := c.tcb.TakeEvents()
	if ev&(tcp.EvReadable|tcp.EvError|tcp.EvClosed|tcp.EvEstablished) != 0 {
		notify(c.rwait)
	}
	if ev&(tcp.EvWritable|tcp.EvError|tcp.EvClosed|tcp.EvEstablished) != 0 {
		notify(c.wwait)
	}
	if ev&(tcp.EvEstablished|tcp.EvAcceptable) != 0 && c.tcb.Passive() {
		if l := c.listener; l != nil {
			notify(l.ready)
		}
	}
	if ev&tcp.EvClosed != 0 || c.tcb.State() == tcp.Closed {
		// A closed TCB never has timer work: a call on a Conn after it
		// was retired must not put it back in the heap.
		s.retire(c)
	} else {
		s.timers.update(c, c.tcb.Deadline())
	}
}

// retire forgets a closed connection.
func (s *Stack) retire(c *Conn) {
	if s.conns[c.tuple] == c {
		delete(s.conns, c.tuple)
		s.unrefForeign(c)
	}
	s.timers.remove(c)
	c.listener = nil
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// armTimer makes the stack's single timer fire at the earliest deadline.
func (s *Stack) armTimer(now time.Duration) {
	at := min(s.timers.earliest(), s.forwardDeadline())
	if at == s.timerAt || s.closed {
		return
	}
	s.timerAt = at
	if at == tcp.Never {
		if s.timer != nil {
			s.timer.Stop()
		}
		return
	}
	d := max(at-now, 0)
	if s.timer == nil {
		s.timer = s.clk.AfterFunc(d, s.onTimer)
	} else {
		s.timer.Reset(d)
	}
}

func (s *Stack) onTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := s.now()
	s.timerAt = tcp.Never
	for {
		c := s.timers.due(now)
		if c == nil {
			break
		}
		s.markDirty(c)
	}
	s.expireForwards(now)
	s.flushLocked(now)
}

// observer adapts the core's Observer to the stack's Tracer.
type observer struct{ s *Stack }

func (o observer) StateChanged(c *tcp.Conn, from, to tcp.State) {
	if o.s.trace != nil {
		o.s.trace.StateChanged(c.Tuple(), from, to)
	}
}

func (o observer) Dropped(t tcp.Tuple, seg *tcp.Segment, r tcp.DropReason) {
	if o.s.trace != nil {
		o.s.trace.Dropped(t, seg, r)
	}
}
