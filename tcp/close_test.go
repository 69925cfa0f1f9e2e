package tcp

// Closing: RFC 9293 §3.6 (the three closing cases, figures 12 and 13),
// the FIN processing of §3.10.7.4, TIME-WAIT (§3.4.2, MUST-13, MAY-2,
// RFC 6191), RFC 1337 and RFC 2525 §2.17.

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// Case 1 (figure 12, TCP Peer A): we close first.
// ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED.
func TestCloseFinWait1FinWait2TimeWait(t *testing.T) {
	c := connEstablished(t)
	c.CloseWrite(0)
	expectState(t, c, FinWait1)
	expect(t, recv(t, c), fromUs.flags(flagACK|flagFIN))
	if _, err := c.Write([]byte("late")); err == nil {
		t.Fatal("Write after CloseWrite succeeded")
	}
	c.now = 10 * time.Millisecond
	send(t, c, fromPeer.ack(c.lseq(2)))
	expectState(t, c, FinWait2)
	expect(t, recv(t, c))
	c.now = 20 * time.Millisecond
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN))
	expectState(t, c, TimeWait)
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
	c.now = 20*time.Millisecond + 2*c.env.Config.MSL
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if c.Err() != nil {
		t.Fatalf("err %v", c.Err())
	}
	if ev := c.TakeEvents(); ev&EvClosed == 0 {
		t.Fatalf("events %b", ev)
	}
}

// FIN-WAIT-1 receiving a FIN that also acknowledges our FIN goes straight
// to TIME-WAIT (RFC 9293 §3.10.7.4 eighth step, FIN-WAIT-1).
func TestFinWait1FinAckingOurFinEntersTimeWait(t *testing.T) {
	c := connFinWait1(t)
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN))
	expectState(t, c, TimeWait)
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
}

// Case 3 (figure 13): simultaneous close.
// FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
func TestSimultaneousClose(t *testing.T) {
	c := connFinWait1(t) // our FIN <SEQ=L+1> is out
	// The peer's FIN crosses ours: it acknowledges only up to L+1.
	send(t, c, fromPeer.flags(flagACK|flagFIN))
	expectState(t, c, Closing)
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
	// The peer's ACK of our FIN.
	c.now = 5 * time.Millisecond
	send(t, c, fromPeer.seq(rseq(2)).ack(c.lseq(2)))
	expectState(t, c, TimeWait)
	expect(t, recv(t, c))
	if c.Deadline() != 5*time.Millisecond+2*c.env.Config.MSL {
		t.Fatalf("deadline %v", c.Deadline())
	}
}

// The same between two TCBs: both end in TIME-WAIT.
func TestSimultaneousCloseTwoTCBs(t *testing.T) {
	l, env := listener(t)
	a := &testConn{Conn: NewActive(env, testTuple.Reverse(), 0)}
	b := accept(t, l, env, 0, recv(t, a)[0])
	deliver(t, recv(t, b), a)
	deliver(t, recv(t, a), b)
	expectState(t, b, Established)
	a.CloseWrite(0)
	b.CloseWrite(0)
	finA, finB := recv(t, a), recv(t, b)
	deliver(t, finB, a)
	deliver(t, finA, b)
	expectState(t, a, Closing)
	expectState(t, b, Closing)
	deliver(t, recv(t, a), b)
	deliver(t, recv(t, b), a)
	expectState(t, a, TimeWait)
	expectState(t, b, TimeWait)
}

// Case 2 (figure 12, TCP Peer B): the peer closes first.
// ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED.
func TestCloseWaitLastAckClosed(t *testing.T) {
	c := connCloseWait(t)
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read err %v, want EOF", err)
	}
	// CLOSE-WAIT may still send (MAY-1, half-duplex close).
	c.Write([]byte("last words"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(2), Flags: flagACK | flagPSH, Window: testBuf - 1, Payload: []byte("last words")})
	c.Close(c.now, &c.out)
	expectState(t, c, LastAck)
	expect(t, recv(t, c), Segment{Seq: c.lseq(11), Ack: rseq(2), Flags: flagACK | flagFIN, Window: testBuf - 1})
	send(t, c, fromPeer.seq(rseq(2)).ack(c.lseq(11)))
	expectState(t, c, LastAck) // only the data is acknowledged
	send(t, c, fromPeer.seq(rseq(2)).ack(c.lseq(12)))
	expectState(t, c, Closed)
	expect(t, recv(t, c))
	if c.Err() != nil {
		t.Fatalf("err %v", c.Err())
	}
}

// The FIN is retransmitted like data until acknowledged (RFC 9293 §3.6:
// "All segments preceding and including FIN will be retransmitted until
// acknowledged").
func TestFinRetransmitted(t *testing.T) {
	c := connFinWait1(t)
	c.now = time.Second
	expect(t, recv(t, c), fromUs.flags(flagACK|flagFIN))
	c.now = 3 * time.Second
	expect(t, recv(t, c), fromUs.flags(flagACK|flagFIN))
	l := connLastAck(t)
	l.now = time.Second
	expect(t, recv(t, l), Segment{Seq: l.lseq(1), Ack: rseq(2), Flags: flagACK | flagFIN, Window: testBuf - 1})
}

// MAY-1: after our FIN the connection still receives, in FIN-WAIT-1 and
// FIN-WAIT-2, until the peer's FIN.
func TestHalfCloseStillReceives(t *testing.T) {
	c := connFinWait2(t)
	send(t, c, fromPeer.ack(c.lseq(2)).payload("more"))
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(5)).win(testBuf-4))
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); string(buf[:n]) != "more" {
		t.Fatalf("read %q", buf[:n])
	}
	send(t, c, fromPeer.seq(rseq(5)).ack(c.lseq(2)).flags(flagACK|flagFIN))
	expectState(t, c, TimeWait)
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("err %v", err)
	}
}

// MUST-13: TIME-WAIT lasts exactly 2*MSL, MSL configurable.
func TestTimeWaitLastsTwoMSL(t *testing.T) {
	cfg := testConfig()
	cfg.MSL = 7 * time.Second
	c := connEstablishedWith(t, cfg)
	c.CloseWrite(0)
	recv(t, c)
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN))
	c.now = 3 * time.Second
	recv(t, c)
	expectState(t, c, TimeWait)
	if d := c.Deadline(); d != 14*time.Second {
		t.Fatalf("TIME-WAIT deadline %v, want 2*MSL = 14s", d)
	}
	c.now = 14*time.Second - 1
	expect(t, recv(t, c))
	expectState(t, c, TimeWait)
	c.now = 14 * time.Second
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if c.Deadline() != Never {
		t.Fatalf("closed connection has deadline %v", c.Deadline())
	}
}

// RFC 1337: a RST in TIME-WAIT is ignored (TIME-WAIT assassination).
func TestTimeWaitIgnoresRst(t *testing.T) {
	c := connTimeWait(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(2), Flags: flagRST})
	send(t, c, Segment{Seq: rseq(2), Ack: c.lseq(2), Flags: flagRST | flagACK})
	expect(t, recv(t, c))
	expectState(t, c, TimeWait)
	expectDrop(t, c.env, before, DropRSTInTimeWait, 2)
}

// RFC 9293 §3.10.7.4: in TIME-WAIT a retransmitted FIN (our ACK was lost)
// is acknowledged again and the 2 MSL timer restarts.
func TestTimeWaitRetransmittedFinReAcked(t *testing.T) {
	c := connTimeWait(t)
	c.now = 25 * time.Second
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN))
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
	if d := c.Deadline(); d != 25*time.Second+2*c.env.Config.MSL {
		t.Fatalf("deadline %v: 2 MSL not restarted", d)
	}
	c.now = 2 * c.env.Config.MSL
	expect(t, recv(t, c))
	expectState(t, c, TimeWait)
}

// MAY-2 (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13): a new SYN in TIME-WAIT
// whose sequence number is beyond the old connection's reopens it: the
// TCB closes with EvReopen so the runtime hands the SYN to the listener.
// An older SYN is answered with an ACK and changes nothing.
func TestTimeWaitNewSynReopens(t *testing.T) {
	c := connTimeWait(t)
	send(t, c, Segment{Seq: rseq(-100), Flags: flagSYN, Window: remoteWin})
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
	expectState(t, c, TimeWait)
	c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
	send(t, c, Segment{Seq: rseq(2), Flags: flagSYN, Window: remoteWin})
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
	expectState(t, c, TimeWait)

	send(t, c, peerSYN.seq(rseq(100000)))
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if ev := c.TakeEvents(); ev&EvReopen == 0 || ev&EvError != 0 {
		t.Fatalf("events %b, want EvReopen without error", ev)
	}
	if c.env.Stats.TimeWaitReopen != 1 {
		t.Fatalf("TimeWaitReopen %d", c.env.Stats.TimeWaitReopen)
	}
}

// SHLD-4 (RFC 6191): with timestamps, a SYN in TIME-WAIT whose TSval is
// newer than TS.Recent reopens even if its sequence number is not larger.
func TestTimeWaitReopenWithTimestamps(t *testing.T) {
	cfg := testConfig()
	cfg.NoTimestamps = false
	c, _ := handshake(t, cfg, wire.Options{HasMSS: true, MSS: remoteMSS, HasTimestamps: true, TSVal: 1000}, remoteWin)
	recv(t, c)
	ts := func(v uint32) wire.Options { return wire.Options{HasTimestamps: true, TSVal: v, TSEcr: c.tsVal(c.now)} }
	c.CloseWrite(c.now)
	recv(t, c)
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN).opts(ts(1001)))
	recv(t, c)
	expectState(t, c, TimeWait)
	send(t, c, peerSYN.seq(rseq(-5000)).opts(wire.Options{HasTimestamps: true, TSVal: 1000}))
	expectState(t, c, TimeWait) // not newer than TS.Recent
	recv(t, c)
	send(t, c, peerSYN.seq(rseq(-5000)).opts(wire.Options{HasTimestamps: true, TSVal: 1002}))
	expectState(t, c, Closed)
	if c.TakeEvents()&EvReopen == 0 {
		t.Fatal("no EvReopen")
	}
}

// SHLD-3 (RFC 1122 §4.2.2.13, RFC 2525 §2.17): closing with unread data,
// or receiving data after a full close, resets the connection so the peer
// learns its data was lost.
func TestCloseWithUnreadDataSendsRst(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.payload("unread"))
	recv(t, c)
	c.Close(c.now, &c.out)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Flags: flagRST})
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionAborted) {
		t.Fatalf("err %v", c.Err())
	}
}

func TestDataAfterCloseSendsRst(t *testing.T) {
	c := connEstablished(t)
	c.Close(c.now, &c.out)
	expect(t, recv(t, c), fromUs.flags(flagACK|flagFIN))
	send(t, c, fromPeer.ack(c.lseq(2)).payload("too late"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(2), Flags: flagRST})
	expectState(t, c, Closed)
}

// Text after the peer's FIN cannot be valid (RFC 9293 §3.10.7.4 seventh
// step, CLOSE-WAIT and later): it is ignored.
func TestTextAfterFinIgnored(t *testing.T) {
	c := connCloseWait(t)
	before := c.env.Stats
	send(t, c, fromPeer.seq(rseq(2)).payload("ghost"))
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropDataAfterFin, 1)
	if c.Readable() != 0 {
		t.Fatal("text after FIN became readable")
	}
}

// A fully closed connection in FIN-WAIT-2 that never hears the peer's FIN
// is reaped after 60 s (like Linux tcp_fin_timeout; RFC 9293 leaves
// FIN-WAIT-2 unbounded, but then no user could ever see the TCB again).
// After CloseWrite alone the user can still read, so it waits.
func TestOrphanFinWait2Timeout(t *testing.T) {
	c := connEstablished(t)
	c.Close(0, &c.out)
	recv(t, c)
	send(t, c, fromPeer.ack(c.lseq(2)))
	expectState(t, c, FinWait2)
	c.now = 60 * time.Second
	recv(t, c)
	expectState(t, c, Closed)

	h := connFinWait2(t)
	if h.Deadline() != Never {
		t.Fatalf("half-closed FIN-WAIT-2 has deadline %v", h.Deadline())
	}
}

// MUST-12: when the peer aborts, the user is told (ECONNRESET, EvError),
// in every synchronized state where the user still holds the connection.
func TestAbortedConnectionReported(t *testing.T) {
	c := connCloseWait(t)
	send(t, c, Segment{Seq: rseq(2), Flags: flagRST})
	if ev := c.TakeEvents(); ev&EvError == 0 || !errors.Is(c.Err(), ErrConnectionReset) {
		t.Fatalf("events %b err %v", ev, c.Err())
	}
}

// RFC 9293 §3.10.2: data sent in SYN-SENT is queued for ESTABLISHED. A
// half-close right after it (a non-blocking or Fast Open connect that
// writes a request and shuts down its side) queues the FIN behind the
// data instead of deleting the TCB and losing what was written.
func TestCloseWriteInSynSentAfterWriteSendsFinAfterData(t *testing.T) {
	c := connSynSent(t)
	c.Write([]byte("req"))
	c.CloseWrite(c.now)
	expectState(t, c, SynSent)
	expect(t, recv(t, c))
	send(t, c, peerSYNACK.seq(remoteISS))
	expectState(t, c, FinWait1)
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH|flagFIN).payload("req"))
}

// With nothing written, CLOSE in SYN-SENT deletes the TCB (RFC 9293 §3.10.4).
func TestCloseWriteInSynSentWithoutDataDeletes(t *testing.T) {
	c := connSynSent(t)
	c.CloseWrite(c.now)
	expectState(t, c, Closed)
}

// A CLOSE in SYN-RECEIVED (here after a simultaneous open whose SYN
// carried text) sends the FIN; the ACK that follows still completes the
// handshake, so the SYN's text becomes readable.
func TestCloseInSynReceivedThenHandshakeCompletes(t *testing.T) {
	c := connSynSent(t)
	syn := peerSYN
	syn.Payload = []byte("xyz")
	send(t, c, syn)
	recv(t, c)
	c.CloseWrite(c.now)
	recv(t, c)
	c.TakeEvents()
	send(t, c, fromPeer.seq(rseq(4)).ack(c.lseq(2)))
	recv(t, c)
	expectState(t, c, FinWait2)
	if ev := c.TakeEvents(); ev&EvEstablished == 0 || c.Readable() != 3 {
		t.Fatalf("events %b, readable %d: the handshake did not complete", ev, c.Readable())
	}
}
