package threeway

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// Stack is a userspace TCP/IP stack on one link: a host.Host (the
// sans-I/O demux, timers and counters) run by one goroutine that feeds it
// the link and the clock, behind one lock, with net.Conn, net.Listener
// and net.PacketConn adapters.
type Stack struct {
	mu        sync.Mutex
	clk       clock.Clock
	realClock bool
	epoch     time.Time
	link      link.Link
	olink     link.OffloadLink // link, when it has offloads
	host      *host.Host
	env       *tcp.Env // the host's

	// out takes segments of core calls made with an Output of the
	// runtime's (the dialer's aborts); flushLocked hands them to the host.
	out         tcp.Output
	transparent struct{ spoofing bool }

	timer   clock.Timer
	timerAt time.Duration

	tx     linkWriter        // packets built under the lock, written after it
	txInfo []link.PacketInfo // the writer's

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
		cfg.MaxSegment = offloads.MaxPacket - host.MaxHeaders
	}
	var seed [32]byte
	copy(seed[:], secret[:])
	seed[31] = 'p'
	env := tcp.NewEnv(cfg, secret)
	hcfg := host.Config{
		Env: env, MTU: opts.Link.MTU(), Addrs: opts.Addrs, Routes: opts.Routes,
		Offloads: host.Offloads{Checksum: offloads.Checksum, TSO4: offloads.TSO4, TSO6: offloads.TSO6, MaxPacket: offloads.MaxPacket},
		Spoofing: opts.Spoofing, Seed: seed,
	}
	if opts.Tracer != nil {
		hcfg.Tracer = opts.Tracer
	}
	s := &Stack{
		clk:     clk,
		epoch:   clk.Now(),
		link:    opts.Link,
		olink:   olink,
		host:    host.New(hcfg),
		env:     env,
		timerAt: tcp.Never,
		done:    make(chan struct{}),
		txInfo:  make([]link.PacketInfo, host.BatchSize),
	}
	s.transparent.spoofing = opts.Spoofing
	s.realClock = clk == clock.Real
	s.readerWG.Add(1)
	go s.readLoop()
	return s, nil
}

// Clock returns the stack's clock; deadlines are in its time.
func (s *Stack) Clock() clock.Clock { return s.clk }

// now is the stack's time: how long since it started. On the real clock
// time.Since reads only the monotonic clock, which is cheaper than Now.
func (s *Stack) now() time.Duration {
	if s.realClock {
		return time.Since(s.epoch)
	}
	return s.clk.Now().Sub(s.epoch)
}

// isClosed reports whether Close has begun.
func (s *Stack) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close aborts every connection (each synchronized peer gets a RST),
// closes every listener, stops the stack's goroutine and closes the link.
// Afterwards every call on the stack's sockets fails with an error
// wrapping net.ErrClosed.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		now := s.now()
		for _, l := range s.host.Listeners() {
			if w, ok := l.User.(*Listener); ok {
				w.markClosed()
			}
		}
		live := make([]*Conn, 0, len(s.host.Conns()))
		for _, hc := range s.host.Conns() {
			if c, ok := hc.User.(*Conn); ok {
				live = append(live, c)
			}
		}
		s.host.Close(now)
		s.handleEvents()
		s.queueOutput()
		s.closed = true
		close(s.done)
		for _, c := range live {
			c.wakeAll()
		}
		if s.timer != nil {
			s.timer.Stop()
		}
		s.unlock()
		s.drainWrites() // the RSTs go out before the link closes
		s.link.Close()
		s.readerWG.Wait()
	})
	return nil
}

// readLoop is the stack's one goroutine: it reads batches from the link
// and feeds them to the host.
func (s *Stack) readLoop() {
	defer s.readerWG.Done()
	const batch = 64
	size := max(s.host.PacketSize(), 1280)
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
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		now := s.now()
		for i := 0; i < n; i++ {
			switch {
			case sizes[i] > len(bufs[i]):
				s.host.Drop(tcp.DropMalformed) // truncated by the link
			case info[i].Err != nil:
				s.host.Drop(tcp.DropBadOffloadHeader)
			default:
				// A partial checksum marks a packet of the local host
				// that never crossed a wire; DATA_VALID one the link
				// checked.
				s.host.Input(now, bufs[i][:sizes[i]], info[i].PartialChecksum || info[i].ChecksumValid)
			}
		}
		clear(info[:n])
		s.flushLocked(now)
		s.unlock()
	}
}

// flushLocked lets the host finish what the last calls started: it polls
// the touched connections and builds their packets. Then the events wake
// waiters, the timer is re-armed and the packets are queued for unlock.
func (s *Stack) flushLocked(now time.Duration) {
	if len(s.out.Segs) > 0 {
		s.host.Queue(&s.out)
	}
	s.host.Flush(now)
	s.handleEvents()
	s.armTimer(now)
	s.queueOutput()
}

// armTimer makes the stack's single timer fire at the host's deadline.
func (s *Stack) armTimer(now time.Duration) {
	at := s.host.Deadline()
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
	if s.closed {
		s.mu.Unlock()
		return
	}
	now := s.now()
	s.timerAt = tcp.Never
	s.host.Advance(now)
	s.flushLocked(now)
	s.unlock()
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Addrs returns the stack's addresses.
func (s *Stack) Addrs() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host.Addrs()
}
