package threeway

import (
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
//
// A test on simulated time builds its testNet inside a synctest bubble
// (synctest.Test): there package time's clock, and so clock.Real, the
// stacks and the pipe run on, is fake and moves only when every goroutine
// in the bubble is durably blocked. Minutes of retransmission timeouts
// then pass at once, with no guess about when the stacks are idle, and a
// conversation is a function of its inputs (TestConversationDeterministic).
// The pipe and the stacks' goroutines must be created inside the bubble.
type testNet struct {
	client, server *Stack
	a, b           *link.PipeEnd
}

type netConfig struct {
	pipe link.PipeConfig
	tcp  tcp.Config
	// wrapClient, if set, wraps the client's end of the pipe (e.g. in a
	// link.Capture).
	wrapClient func(link.Link) link.Link
	// Tracers for the client and server stacks.
	clientTrace, serverTrace Tracer
}

func newTestNet(t testing.TB, nc netConfig) *testNet {
	t.Helper()
	n := &testNet{}
	n.a, n.b = link.Pipe(nc.pipe)
	var clientLink, serverLink link.Link = n.a, n.b
	if nc.wrapClient != nil {
		clientLink = nc.wrapClient(clientLink)
	}
	var err error
	secA, secB := [16]byte{1}, [16]byte{2}
	n.client, err = New(Options{Link: clientLink, Addrs: []netip.Prefix{clientAddr, client6}, TCP: nc.tcp, ISNSecret: &secA, Tracer: nc.clientTrace})
	if err != nil {
		t.Fatal(err)
	}
	n.server, err = New(Options{Link: serverLink, Addrs: []netip.Prefix{serverAddr, server6}, TCP: nc.tcp, ISNSecret: &secB, Tracer: nc.serverTrace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	return n
}

func (n *testNet) close() {
	n.client.Close()
	n.server.Close()
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

// waitFor polls cond every millisecond until it holds, failing the test
// after timeout. It is for conditions with no event to wait on. In a
// synctest bubble the timeout and the polls are simulated time: a poll lets
// the clock move a millisecond at most, and only once everything else is
// blocked; a state can still come and go between two polls, so tests wait
// for states on a stateLog.
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
// a test can wait for a state however briefly it lasts (in a synctest
// bubble, TIME-WAIT passes in no real time at all). In a bubble, make it
// there: a channel from outside does not count as durably blocking.
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

// wait blocks until c's connection has reached want. The timeout is in the
// stacks' time: in a synctest bubble it is simulated, and must outlast
// TIME-WAIT (2*MSL, a minute by default).
func (l *stateLog) wait(t testing.TB, c *Conn, want tcp.State) {
	t.Helper()
	timeout := time.After(10 * time.Minute)
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
