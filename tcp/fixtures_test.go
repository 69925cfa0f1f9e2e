package tcp

// Test fixtures and a small scripted-segment harness, in the style of
// smoltcp's TCP socket tests: a fixture puts one TCB straight into a
// state, a test feeds it segments built from templates with fixed
// sequence numbers (fromPeer, fromUs, peerSYN, ...: a copy with only the
// fields the rule is about overridden, fromPeer.seq(rseq(5)).payload("x")),
// polls it, and compares what came out field by field.
//
// Sequence numbers: our side starts at c.ISS() (c.lseq(0)); the peer's
// initial sequence number is the constant remoteISS (rseq(0)). Time is
// explicit: every testConn carries its own clock, c.now, which a test
// moves forward by assignment.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// The connection under test always has this tuple: LOCAL is us, REMOTE
// the scripted peer. Passive fixtures listen on LOCAL_PORT.
var (
	localAddr   = netip.MustParseAddr("192.0.2.1")
	remoteAddr  = netip.MustParseAddr("192.0.2.2")
	localAddr6  = netip.MustParseAddr("2001:db8::1")
	remoteAddr6 = netip.MustParseAddr("2001:db8::2")
)

const (
	localPort  = 80
	remotePort = 49152

	// remoteISS is the peer's initial sequence number. It lies in the
	// upper half of the sequence space so that serial-number arithmetic
	// mistakes (comparing against zero, say) show up.
	remoteISS seqnum.Value = 0xC000_0000

	// remoteWin is the window the peer advertises unless a test says
	// otherwise; remoteMSS the MSS it offers.
	remoteWin = 60000
	remoteMSS = 1460

	// testBuf is the send and receive buffer size of testConfig: below
	// 65536, so no window scaling is needed and windows read plainly.
	testBuf = 64000
	testMSS = 1460 // MTU 1500 less 40 (IPv4)
)

var (
	testTuple  = Tuple{LocalAddr: localAddr, RemoteAddr: remoteAddr, LocalPort: localPort, RemotePort: remotePort}
	testTuple6 = Tuple{LocalAddr: localAddr6, RemoteAddr: remoteAddr6, LocalPort: localPort, RemotePort: remotePort}
	testSecret = [16]byte{'t', 'h', 'r', 'e', 'e', 'w', 'a', 'y', 1, 2, 3, 4, 5, 6, 7, 8}
)

// testConfig is the default configuration with the RFC 7323 and RFC 2018
// options turned off and 64000-byte buffers: segments carry no options
// beyond MSS on SYNs, and windows need no scaling. Delayed ACKs are off,
// so every segment with text is acknowledged at once; delack_test.go
// turns them on.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.SendBuffer, cfg.RecvBuffer = testBuf, testBuf
	cfg.NoWindowScaling, cfg.NoSACK, cfg.NoTimestamps = true, true, true
	cfg.NoDelayedAck = true
	return cfg
}

func newTestEnv(cfg Config) *Env { return NewEnv(cfg, testSecret) }

// localISS is our ISS in every fixture built at time 0 on testTuple
// (c.lseq(0) for those); lseq(n) is n past it.
var localISS = testISS()

func lseq(n int) seqnum.Value { return localISS.Add(seqnum.Size(n)) }

// Segment templates, as smoltcp's SEND_TEMPL and RECV_TEMPL: fixed
// sequence numbers and the usual window, so that a test writes only the
// fields its rule is about, with the overrides below:
//
//	send(t, c, fromPeer.seq(rseq(5)).flags(flagRST))
//	expect(t, recv(t, c), fromUs.ack(rseq(6)))
var (
	// fromPeer is the scripted peer's segment once synchronized: an ACK
	// at R+1 of our SYN, window remoteWin.
	fromPeer = Segment{Seq: rseq(1), Ack: lseq(1), Flags: flagACK, Window: remoteWin}
	// fromUs is the connection's own once synchronized: an ACK at L+1
	// of the peer's SYN, advertising the whole test buffer.
	fromUs = Segment{Seq: lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf}
	// peerSYN opens from the peer, offering only an MSS.
	peerSYN = Segment{Seq: rseq(0), Flags: flagSYN, Window: remoteWin, Options: mssOpt(remoteMSS)}
	// peerSYNACK answers our SYN.
	peerSYNACK = Segment{Seq: rseq(0), Ack: lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)}
	// ourSYN and ourSYNACK are what the connection under test opens with.
	ourSYN    = Segment{Seq: lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)}
	ourSYNACK = Segment{Seq: lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)}
)

// Overrides: each returns a copy of the template with one field changed.
func (s Segment) seq(v seqnum.Value) Segment  { s.Seq = v; return s }
func (s Segment) ack(v seqnum.Value) Segment  { s.Ack = v; return s }
func (s Segment) flags(f wire.Flags) Segment  { s.Flags = f; return s }
func (s Segment) win(w uint16) Segment        { s.Window = w; return s }
func (s Segment) opts(o wire.Options) Segment { s.Options = o; return s }
func (s Segment) payload(p string) Segment    { s.Payload = []byte(p); return s }
func (s Segment) data(p []byte) Segment       { s.Payload = p; return s }

// rseq returns the peer's sequence number n past its ISN.
func rseq(n int) seqnum.Value { return remoteISS.Add(seqnum.Size(n)) }

// testConn is a Conn plus its clock and the segments it produced.
type testConn struct {
	*Conn
	l   *Listener // the listener a passive fixture came from
	now time.Duration
	out Output
}

// lseq returns our sequence number n past our ISN.
func (c *testConn) lseq(n int) seqnum.Value { return c.ISS().Add(seqnum.Size(n)) }

// send feeds seg to the connection at c.now. Anything Input answers with
// directly (a RST, a challenge ACK) is collected for the next recv.
func send(t testing.TB, c *testConn, seg Segment) {
	t.Helper()
	c.Input(c.now, &seg, &c.out)
}

// recv polls the connection at c.now and returns every segment produced
// since the last recv, the ones Input produced first. Payloads are copied.
func recv(t testing.TB, c *testConn) []Segment {
	t.Helper()
	c.Poll(c.now, &c.out)
	return c.take(t)
}

// take returns what Input produced, without polling.
func (c *testConn) take(t testing.TB) []Segment {
	t.Helper()
	var segs []Segment
	for _, os := range c.out.Segs {
		if os.Tuple != c.Tuple() {
			t.Fatalf("segment sent on tuple %v, connection is %v", os.Tuple, c.Tuple())
		}
		s := os.Seg
		s.Payload = append([]byte(nil), s.Payload...)
		segs = append(segs, s)
	}
	c.out.Reset()
	return segs
}

// expect compares got with want field by field: Seq, Ack, Flags, Window,
// Options and Payload, all exactly. On a mismatch it prints both sides as
// a packet trace.
func expect(t testing.TB, got []Segment, want ...Segment) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = sameSegment(&got[i], &want[i])
	}
	if ok {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "segments differ (got %d, want %d):\n", len(got), len(want))
	for i := 0; i < max(len(got), len(want)); i++ {
		mark := " "
		if i >= len(got) || i >= len(want) || !sameSegment(&got[i], &want[i]) {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s #%d\n", mark, i)
		if i < len(got) {
			fmt.Fprintf(&b, "    got:  %s\n", fmtSeg(&got[i]))
		} else {
			fmt.Fprintf(&b, "    got:  (nothing)\n")
		}
		if i < len(want) {
			fmt.Fprintf(&b, "    want: %s\n", fmtSeg(&want[i]))
		} else {
			fmt.Fprintf(&b, "    want: (nothing)\n")
		}
	}
	t.Fatal(b.String())
}

func sameSegment(a, b *Segment) bool {
	return a.Seq == b.Seq && a.Ack == b.Ack && a.Flags == b.Flags && a.Window == b.Window &&
		a.Options == b.Options && bytes.Equal(a.Payload, b.Payload)
}

// fmtSeq prints a sequence number relative to the known initial sequence
// numbers when it is near one: "L+1" (our ISS at time 0 on testTuple),
// "R+1" (remoteISS).
func fmtSeq(v seqnum.Value) string {
	near := func(base seqnum.Value) (int32, bool) {
		d := int32(v - base)
		return d, d > -1<<20 && d < 1<<20
	}
	if d, ok := near(remoteISS); ok {
		return fmt.Sprintf("R%+d", d)
	}
	if d, ok := near(testISS()); ok {
		return fmt.Sprintf("L%+d", d)
	}
	return fmt.Sprint(uint32(v))
}

// testISS is the ISS every fixture built at time 0 on testTuple gets.
func testISS() seqnum.Value {
	g := NewISNGenerator(testSecret)
	return g.ISN(0, testTuple)
}

func fmtSeg(s *Segment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] seq=%s", s.Flags, fmtSeq(s.Seq))
	if s.Flags&flagACK != 0 || s.Ack != 0 {
		fmt.Fprintf(&b, " ack=%s", fmtSeq(s.Ack))
	}
	fmt.Fprintf(&b, " win=%d", s.Window)
	if o := fmtOpts(&s.Options); o != "" {
		fmt.Fprintf(&b, " <%s>", o)
	}
	fmt.Fprintf(&b, " len=%d", len(s.Payload))
	if n := len(s.Payload); n > 0 && n <= 16 {
		fmt.Fprintf(&b, " %q", s.Payload)
	}
	return b.String()
}

func fmtOpts(o *wire.Options) string {
	var p []string
	if o.HasMSS {
		p = append(p, fmt.Sprintf("mss %d", o.MSS))
	}
	if o.SACKPermitted {
		p = append(p, "sackOK")
	}
	if o.HasTimestamps {
		p = append(p, fmt.Sprintf("TS val %d ecr %d", o.TSVal, o.TSEcr))
	}
	if o.HasWScale {
		p = append(p, fmt.Sprintf("wscale %d", o.WScale))
	}
	if o.NumSACK > 0 {
		var bl []string
		for i := 0; i < o.NumSACK && i < len(o.SACK); i++ {
			bl = append(bl, fmt.Sprintf("%s:%s", fmtSeq(seqnum.Value(o.SACK[i].Start)), fmtSeq(seqnum.Value(o.SACK[i].End))))
		}
		p = append(p, "sack "+strings.Join(bl, " "))
	}
	if o.HasFastOpen {
		kind := "FO"
		if o.FastOpenExp {
			kind = "FOEXP"
		}
		p = append(p, strings.TrimSpace(fmt.Sprintf("%s %x", kind, o.FastOpenCookieBytes())))
	}
	return strings.Join(p, ",")
}

// expectState fails unless c is in state s.
func expectState(t testing.TB, c *testConn, s State) {
	t.Helper()
	if c.State() != s {
		t.Fatalf("state %v, want %v", c.State(), s)
	}
}

// expectDrop fails unless the drop counter for r moved by n since before.
func expectDrop(t testing.TB, env *Env, before Stats, r DropReason, n uint64) {
	t.Helper()
	if got := env.Stats.Drops[r] - before.Drops[r]; got != n {
		t.Fatalf("Drops[%v] went up by %d, want %d", r, got, n)
	}
}

// mssOpt is the option set of a SYN carrying only an MSS.
func mssOpt(m uint16) wire.Options { return wire.Options{HasMSS: true, MSS: m} }

// ---------------------------------------------------------------------
// Fixtures. Each returns a TCB in one state, at time 0, on testTuple,
// with testConfig unless the name says otherwise, and with nothing left
// to send.

// connSynSent is an active open whose SYN has been sent.
func connSynSent(t testing.TB) *testConn { return connSynSentWith(t, testConfig()) }

func connSynSentWith(t testing.TB, cfg Config) *testConn {
	t.Helper()
	env := newTestEnv(cfg)
	c := &testConn{Conn: NewActive(env, testTuple, 0)}
	if !cfg.NoWindowScaling || !cfg.NoSACK || !cfg.NoTimestamps {
		recv(t, c) // options vary; the options tests check this SYN
		return c
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)})
	return c
}

// listener returns a listener on a fresh environment.
func listener(t testing.TB) (*Listener, *Env) { return listenerWith(t, testConfig()) }

func listenerWith(t testing.TB, cfg Config) (*Listener, *Env) {
	env := newTestEnv(cfg)
	return NewListener(env), env
}

// accept hands seg to l as if it arrived from REMOTE and wraps the child.
func accept(t testing.TB, l *Listener, env *Env, now time.Duration, seg Segment) *testConn {
	t.Helper()
	c := &testConn{l: l, now: now}
	child := l.Input(now, testTuple, &seg, &c.out)
	if child == nil {
		t.Fatalf("listener returned no child for %s", fmtSeg(&seg))
	}
	c.Conn = child
	return c
}

// connSynReceivedPassive is a child of a listener that answered the peer's
// SYN with its SYN-ACK.
func connSynReceivedPassive(t testing.TB) *testConn {
	t.Helper()
	l, env := listener(t)
	c := accept(t, l, env, 0, peerSYN)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)})
	return c
}

// connSynReceivedActive is an active open that met the peer's SYN
// (simultaneous open) and answered with a SYN-ACK.
func connSynReceivedActive(t testing.TB) *testConn {
	t.Helper()
	c := connSynSent(t)
	send(t, c, peerSYN)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)})
	expectState(t, c, SynReceived)
	return c
}

// connEstablished is a synchronized connection built field by field, the
// way the handshake of TestFixtureEstablishedMatchesHandshake leaves one:
// both ISNs consumed, no data either way, the peer's window remoteWin.
func connEstablished(t testing.TB) *testConn { return connEstablishedWith(t, testConfig()) }

// connEstablishedWith is connEstablished with cfg; options stay off (the
// TCB is built as if the peer offered none but MSS).
func connEstablishedWith(t testing.TB, cfg Config) *testConn {
	t.Helper()
	env := newTestEnv(cfg)
	c := &testConn{Conn: newConn(env, testTuple, 0)}
	c.irs = remoteISS
	c.rcvNxt = rseq(1)
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size(min(env.Config.RecvBuffer, 65535)))
	c.sndUna, c.sndNxt, c.sndMax = c.lseq(1), c.lseq(1), c.lseq(1)
	c.bufSeq = c.lseq(1)
	c.sndWnd, c.maxSndWnd = remoteWin, remoteWin
	c.sndWl1, c.sndWl2 = rseq(1), c.lseq(1)
	c.sndMSS = remoteMSS
	c.lastAckSent = c.rcvNxt
	c.cc.init(c.Conn)
	c.setState(Established)
	return c
}

// connFinWait1 has sent its FIN, not yet acknowledged.
func connFinWait1(t testing.TB) *testConn {
	t.Helper()
	c := connEstablished(t)
	c.CloseWrite(c.now)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagFIN | flagACK, Window: testBuf})
	expectState(t, c, FinWait1)
	return c
}

// connFinWait2 has had its FIN acknowledged.
func connFinWait2(t testing.TB) *testConn {
	t.Helper()
	c := connFinWait1(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(2), Flags: flagACK, Window: remoteWin})
	expect(t, recv(t, c))
	expectState(t, c, FinWait2)
	return c
}

// connCloseWait has received the peer's FIN and acknowledged it.
func connCloseWait(t testing.TB) *testConn {
	t.Helper()
	c := connEstablished(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagFIN | flagACK, Window: remoteWin})
	// The FIN takes a sequence number but no buffer space; the window's
	// right edge stays where it was (SHLD-14), so one less is offered.
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(2), Flags: flagACK, Window: testBuf - 1})
	expectState(t, c, CloseWait)
	return c
}

// connClosing sent its FIN and then got the peer's FIN, which did not
// acknowledge ours (simultaneous close).
func connClosing(t testing.TB) *testConn {
	t.Helper()
	c := connFinWait1(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagFIN | flagACK, Window: remoteWin})
	expect(t, recv(t, c), Segment{Seq: c.lseq(2), Ack: rseq(2), Flags: flagACK, Window: testBuf - 1})
	expectState(t, c, Closing)
	return c
}

// connLastAck received the peer's FIN, then closed and sent its own.
func connLastAck(t testing.TB) *testConn {
	t.Helper()
	c := connCloseWait(t)
	c.CloseWrite(c.now)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(2), Flags: flagFIN | flagACK, Window: testBuf - 1})
	expectState(t, c, LastAck)
	return c
}

// connTimeWait closed first and has acknowledged the peer's FIN.
func connTimeWait(t testing.TB) *testConn {
	t.Helper()
	c := connFinWait2(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(2), Flags: flagFIN | flagACK, Window: remoteWin})
	expect(t, recv(t, c), Segment{Seq: c.lseq(2), Ack: rseq(2), Flags: flagACK, Window: testBuf - 1})
	expectState(t, c, TimeWait)
	return c
}

// handshake runs a real three-way handshake of an active open with cfg
// against a scripted peer that offers peerOpts, and returns the
// established connection and the SYN it sent.
func handshake(t testing.TB, cfg Config, peerOpts wire.Options, peerWin uint16) (*testConn, Segment) {
	t.Helper()
	c := connSynSentWithNoCheck(t, cfg)
	syn := recv(t, c)
	if len(syn) != 1 {
		t.Fatalf("want one SYN, got %d segments", len(syn))
	}
	c.now = 10 * time.Millisecond
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: peerWin, Options: peerOpts})
	expectState(t, c, Established)
	return c, syn[0]
}

func connSynSentWithNoCheck(t testing.TB, cfg Config) *testConn {
	env := newTestEnv(cfg)
	return &testConn{Conn: NewActive(env, testTuple, 0)}
}

// TestFixtureEstablishedMatchesHandshake checks that connEstablished is
// the TCB a real handshake produces, so tests built on it prove something
// about reachable states.
func TestFixtureEstablishedMatchesHandshake(t *testing.T) {
	f := connEstablished(t)
	c, _ := handshake(t, testConfig(), mssOpt(remoteMSS), remoteWin)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf})
	type view struct {
		state                         State
		iss, sndUna, sndNxt, sndMax   seqnum.Value
		irs, rcvNxt, rcvAdv, bufSeq   seqnum.Value
		sndWnd, maxSndWnd             uint32
		sndMSS, advMSS                uint16
		wsOK, sackOK, tsOK, finQueued bool
		cwnd                          uint32
	}
	v := func(c *testConn) view {
		return view{c.state, c.iss, c.sndUna, c.sndNxt, c.sndMax, c.irs, c.rcvNxt, c.rcvAdv, c.bufSeq,
			c.sndWnd, c.maxSndWnd, c.sndMSS, c.advMSS, c.wsOK, c.sackOK, c.tsOK, c.finQueued, c.cong().Cwnd()}
	}
	if a, b := v(f), v(c); a != b {
		t.Fatalf("fixture differs from handshake:\nfixture:   %+v\nhandshake: %+v", a, b)
	}
}

// pattern returns n bytes of a recognisable stream, as if starting at
// stream offset off.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (off+i)%26)
	}
	return b
}

// drain plays a well-behaved peer for c's outgoing data: it takes every
// segment c sends, keeps the in-order text, and acknowledges it with
// window wnd, moving the clock to c's next deadline whenever c is quiet.
// It stops once everything written has been acknowledged and returns the
// text the peer received. peerNxt is the sequence number the peer expects.
func drain(t testing.TB, c *testConn, peerNxt seqnum.Value, wnd uint16) []byte {
	t.Helper()
	var got []byte
	for i := 0; i < 10000; i++ {
		if c.SendQueued() == 0 && c.sndUna == c.sndMax {
			return got
		}
		segs := recv(t, c)
		if len(segs) == 0 {
			d := c.Deadline()
			if d == Never {
				t.Fatalf("drain: connection idle with %d bytes unacknowledged", c.SendQueued())
			}
			c.now = max(c.now, d)
			continue
		}
		for _, s := range segs {
			if s.Flags&flagRST != 0 {
				t.Fatalf("drain: RST %s", fmtSeg(&s))
			}
			if s.Seq.LessThanEq(peerNxt) {
				if end := s.Seq.Add(seqnum.Size(len(s.Payload))); end.GreaterThan(peerNxt) {
					got = append(got, s.Payload[s.Seq.Size(peerNxt):]...)
					peerNxt = end
				}
			}
			send(t, c, Segment{Seq: c.rcvNxt, Ack: peerNxt, Flags: flagACK, Window: wnd})
		}
	}
	t.Fatal("drain: did not finish")
	return nil
}
