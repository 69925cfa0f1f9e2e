package threeway

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	clientAddr = netip.MustParsePrefix("192.0.2.1/24")
	serverAddr = netip.MustParsePrefix("192.0.2.2/24")
	client6    = netip.MustParsePrefix("2001:db8::1/64")
	server6    = netip.MustParsePrefix("2001:db8::2/64")
)

// testNet is two stacks joined by an in-memory pipe.
type testNet struct {
	client, server *Stack
	a, b           *link.PipeEnd
	sim            *clock.Sim // nil on the real clock
	driver         *simDriver // advances sim
}

type netConfig struct {
	pipe link.PipeConfig
	tcp  tcp.Config
	sim  bool // run on a simulated clock that advances when idle
	// quiet is how long (in real time) the simulation must be idle before
	// the clock jumps to the next timer; default 2ms.
	quiet time.Duration
	// wrapClient, if set, wraps the client's end of the pipe (e.g. in a
	// link.Capture).
	wrapClient func(link.Link) link.Link
	// Tracers for the client and server stacks.
	clientTrace, serverTrace Tracer
}

func newTestNet(t testing.TB, nc netConfig) *testNet {
	t.Helper()
	n := &testNet{}
	var clk clock.Clock = clock.Real
	if nc.sim {
		n.sim = clock.NewSim(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		n.driver = newSimDriver(n.sim, cmp.Or(nc.quiet, 2*time.Millisecond))
		clk = n.driver
		nc.pipe.Clock = clk
	}
	n.a, n.b = link.Pipe(nc.pipe)
	var clientLink, serverLink link.Link = n.a, n.b
	if n.driver != nil {
		clientLink, serverLink = n.driver.watch(n.a, n.b)
	}
	if nc.wrapClient != nil {
		clientLink = nc.wrapClient(clientLink)
	}
	var err error
	secA, secB := [16]byte{1}, [16]byte{2}
	n.client, err = New(Options{Link: clientLink, Addrs: []netip.Prefix{clientAddr, client6}, Clock: clk, TCP: nc.tcp, ISNSecret: &secA, Tracer: nc.clientTrace})
	if err != nil {
		t.Fatal(err)
	}
	n.server, err = New(Options{Link: serverLink, Addrs: []netip.Prefix{serverAddr, server6}, Clock: clk, TCP: nc.tcp, ISNSecret: &secB, Tracer: nc.serverTrace})
	if err != nil {
		t.Fatal(err)
	}
	if n.driver != nil {
		n.driver.start()
	}
	t.Cleanup(n.close)
	return n
}

func (n *testNet) close() {
	n.client.Close()
	n.server.Close()
	if n.driver != nil {
		n.driver.stop()
	}
}

// simDriver moves a simulated clock to its next timer when the two stacks
// are idle. clock.Sim.AutoAdvance judges idleness only by the absence of
// clock calls for a quiet period, and on a loaded machine (these tests run
// hundreds of stacks on two CPUs under the race detector) a stack's
// goroutine can wait longer than that to be scheduled while packets are
// queued for it: time then jumps past timeouts it would have met, which
// shows up as spurious retransmissions and, rarely, handshakes that time
// out. The driver is the stacks' clock, so it sees their activity, and it
// watches the pipe: it also waits while a packet sits unread in either
// end's queue or a write into the pipe is under way.
type simDriver struct {
	sim        *clock.Sim
	quiet      time.Duration
	last       atomic.Int64 // when (since driverEpoch) the clock was last used
	ends       [2]*watchedEnd
	quit, done chan struct{}
	stopOnce   sync.Once
}

var driverEpoch = time.Now()

func newSimDriver(sim *clock.Sim, quiet time.Duration) *simDriver {
	return &simDriver{sim: sim, quiet: quiet, quit: make(chan struct{}), done: make(chan struct{})}
}

func (d *simDriver) touch() { d.last.Store(int64(time.Since(driverEpoch))) }

func (d *simDriver) idle() time.Duration {
	return time.Since(driverEpoch) - time.Duration(d.last.Load())
}

// Now and AfterFunc make the driver a clock.Clock that records activity.
func (d *simDriver) Now() time.Time {
	d.touch()
	return d.sim.Now()
}

func (d *simDriver) AfterFunc(dur time.Duration, f func()) clock.Timer {
	d.touch()
	return drivenTimer{d, d.sim.AfterFunc(dur, f)}
}

type drivenTimer struct {
	d *simDriver
	t clock.Timer
}

func (t drivenTimer) Stop() bool {
	t.d.touch()
	return t.t.Stop()
}

func (t drivenTimer) Reset(dur time.Duration) bool {
	t.d.touch()
	return t.t.Reset(dur)
}

// watch returns the two pipe ends wrapped so the driver sees their traffic.
func (d *simDriver) watch(a, b *link.PipeEnd) (link.Link, link.Link) {
	d.ends[0] = &watchedEnd{PipeEnd: a, peer: b, d: d}
	d.ends[1] = &watchedEnd{PipeEnd: b, peer: a, d: d}
	return d.ends[0], d.ends[1]
}

func (d *simDriver) start() { go d.run() }

func (d *simDriver) stop() {
	d.stopOnce.Do(func() { close(d.quit) })
	<-d.done
}

func (d *simDriver) run() {
	defer close(d.done)
	sleep := time.NewTimer(time.Hour)
	defer sleep.Stop()
	for {
		wait := d.quiet - d.idle()
		switch {
		case wait > 0:
		case d.ends[0].busy() || d.ends[1].busy():
			// A stack has packets to handle: it is runnable, just not
			// running yet.
			wait = d.quiet / 4
		case d.sim.Pending() == 0:
			wait = d.quiet
		}
		if wait > 0 {
			sleep.Reset(wait)
			select {
			case <-sleep.C:
			case <-d.quit:
				return
			}
			continue
		}
		d.sim.AdvanceToNext()
		// Timer callbacks may have woken goroutines without touching the
		// clock; give them a quiet period to react.
		d.touch()
	}
}

// watchedEnd is a pipe end that counts what its reader has handled.
type watchedEnd struct {
	*link.PipeEnd
	peer    *link.PipeEnd // its Stats().Delivered counts packets queued here
	d       *simDriver
	writing atomic.Int32  // writes from this end in progress
	handled atomic.Uint64 // packets read and processed
	batch   uint64        // the batch being processed; reader-owned
}

func (e *watchedEnd) WritePackets(pkts [][]byte) error {
	e.writing.Add(1)
	defer e.writing.Add(-1)
	e.d.touch()
	return e.PipeEnd.WritePackets(pkts)
}

// Offloads hides the pipe's offloads: the driver watches only the plain
// Link methods, so a simulated pipe carries MTU-sized packets.
func (e *watchedEnd) Offloads() link.Offloads { return link.Offloads{} }

// ReadPackets counts a batch as handled when the reader comes back for
// the next one: the stack's read loop processes a batch in between.
func (e *watchedEnd) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	e.handled.Add(e.batch)
	e.batch = 0
	n, err := e.PipeEnd.ReadPackets(bufs, sizes)
	e.batch = uint64(n)
	e.d.touch()
	return n, err
}

// busy reports packets queued here and not yet processed, or a write in
// progress from here.
func (e *watchedEnd) busy() bool {
	return e.writing.Load() > 0 || e.peer.Stats().Delivered > e.handled.Load()
}

// now is the clock both stacks run on.
func (n *testNet) now() time.Time { return n.client.Clock().Now() }

// listen listens on the server stack or fails the test.
func listen(t testing.TB, s *Stack, address string) *Listener {
	t.Helper()
	nl, err := s.Listen("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	l := nl.(*Listener)
	t.Cleanup(func() { l.Close() })
	return l
}

// serveEcho accepts connections on l until it is closed, echoing each one
// back until EOF and then closing it. The returned function waits for every
// goroutine it started.
func serveEcho(l net.Listener) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return wg.Wait
}

// echoOnce dials address on s, sends msg, half-closes, and checks that the
// whole echo comes back before EOF.
func echoOnce(s *Stack, address string, msg []byte) error {
	c, err := s.Dial("tcp", address)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if err := c.(*Conn).CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != string(msg) {
		return errors.New("echo mismatch: got " + string(got))
	}
	return nil
}

// waitFor polls cond until it holds, failing the test after timeout (of
// real time). It is for conditions with no event to wait on, on the real
// clock; on a simulated clock a state can come and go between two polls,
// so tests there wait on a stateLog.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// numConns returns how many connections the stack still tracks.
func (s *Stack) numConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.host.Conns())
}

// segInfo parses a raw IP packet from the pipe. ok is false for anything
// that is not a well-formed TCP segment.
type segInfo struct {
	flags   wire.Flags
	seq     uint32
	payload int
}

func parseSeg(pkt []byte) (segInfo, bool) {
	ip, err := wire.ParseIPPacket(pkt)
	if err != nil || ip.Protocol() != wire.ProtoTCP {
		return segInfo{}, false
	}
	h, err := wire.ParseTCP(ip.Payload())
	if err != nil {
		return segInfo{}, false
	}
	return segInfo{flags: h.Flags(), seq: h.Seq(), payload: len(h.Payload())}, true
}

// dropFirst returns a Pipe Drop filter that drops the first packet match
// accepts and lets everything else through.
func dropFirst(match func(segInfo) bool) (filter func([]byte) bool, dropped *atomic.Int32) {
	dropped = new(atomic.Int32)
	var done atomic.Bool
	return func(pkt []byte) bool {
		if done.Load() {
			return false
		}
		s, ok := parseSeg(pkt)
		if !ok || !match(s) {
			return false
		}
		done.Store(true)
		dropped.Add(1)
		return true
	}, dropped
}

func isSYN(s segInfo) bool    { return s.flags&(wire.FlagSYN|wire.FlagACK) == wire.FlagSYN }
func isSYNACK(s segInfo) bool { return s.flags.Has(wire.FlagSYN | wire.FlagACK) }
func isPureACK(s segInfo) bool {
	return s.flags == wire.FlagACK && s.payload == 0
}
func isFIN(s segInfo) bool { return s.flags.Has(wire.FlagFIN) }

// stream is a deterministic byte stream (ChaCha8 keyed by a seed) whose
// SHA-256 is computed as it is produced.
type stream struct {
	rng  *rand.ChaCha8
	left int64
}

func newStream(seed byte, n int64) *stream {
	var key [32]byte
	key[0] = seed
	key[31] = 's'
	return &stream{rng: rand.NewChaCha8(key), left: n}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	s.rng.Read(p)
	s.left -= int64(len(p))
	return len(p), nil
}

// sendStream writes n bytes of the stream seed to c, then half-closes c,
// and returns the SHA-256 of what it wrote.
func sendStream(c net.Conn, seed byte, n int64, bufSize int) ([32]byte, error) {
	h := sha256.New()
	src := io.TeeReader(newStream(seed, n), h)
	buf := make([]byte, bufSize)
	if _, err := io.CopyBuffer(struct{ io.Writer }{c}, src, buf); err != nil {
		return [32]byte{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, c.(*Conn).CloseWrite()
}

// recvStream reads c to EOF and returns the byte count and SHA-256.
func recvStream(c net.Conn, bufSize int) (int64, [32]byte, error) {
	h := sha256.New()
	buf := make([]byte, bufSize)
	n, err := io.CopyBuffer(h, struct{ io.Reader }{c}, buf)
	var sum [32]byte
	h.Sum(sum[:0])
	return n, sum, err
}

// exchange runs a transfer in both directions at once: a sends na bytes of
// stream seedA to b while b sends nb bytes of stream seedB to a, each side
// half-closing when done. It checks that each receiver got exactly the
// bytes its peer sent, by count and SHA-256.
func exchange(a, b net.Conn, seedA byte, na int64, seedB byte, nb int64, bufSize int) error {
	errc := make(chan error, 2)
	oneWay := func(w, r net.Conn, seed byte, n int64, name string) {
		type sendResult struct {
			sum [32]byte
			err error
		}
		sc := make(chan sendResult, 1)
		go func() {
			sum, err := sendStream(w, seed, n, bufSize)
			sc <- sendResult{sum, err}
		}()
		got, rsum, rerr := recvStream(r, bufSize)
		s := <-sc
		switch {
		case s.err != nil:
			errc <- fmt.Errorf("%s: send: %w", name, s.err)
		case rerr != nil:
			errc <- fmt.Errorf("%s: receive after %d bytes: %w", name, got, rerr)
		case got != n:
			errc <- fmt.Errorf("%s: received %d bytes, sent %d", name, got, n)
		case rsum != s.sum:
			errc <- fmt.Errorf("%s: SHA-256 of received data %x != sent %x", name, rsum[:8], s.sum[:8])
		default:
			errc <- nil
		}
	}
	go oneWay(a, b, seedA, na, "a->b")
	go oneWay(b, a, seedB, nb, "b->a")
	return errors.Join(<-errc, <-errc)
}

// stateLog is a Tracer that records every connection's state changes, so
// a test can wait for a state however briefly it lasts (on a simulated
// clock, TIME-WAIT may pass in a few milliseconds of real time).
type stateLog struct {
	mu      sync.Mutex
	history map[tcp.Tuple][]tcp.State
	changed chan struct{} // closed at each change
}

func newStateLog() *stateLog {
	return &stateLog{history: make(map[tcp.Tuple][]tcp.State), changed: make(chan struct{})}
}

func (l *stateLog) StateChanged(t tcp.Tuple, from, to tcp.State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.history[t] = append(l.history[t], to)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *stateLog) Segment(Direction, tcp.Tuple, *tcp.Segment)      {}
func (l *stateLog) Dropped(tcp.Tuple, *tcp.Segment, tcp.DropReason) {}

// states returns the states c's connection has been through, in order.
func (l *stateLog) states(c *Conn) []tcp.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tcp.State(nil), l.history[c.tuple]...)
}

// wait blocks until c's connection has reached want.
func (l *stateLog) wait(t testing.TB, c *Conn, want tcp.State) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		h, ch := l.history[c.tuple], l.changed
		l.mu.Unlock()
		if slices.Contains(h, want) {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("connection %v never reached %v; went through %v", c.LocalAddr(), want, h)
		}
	}
}
