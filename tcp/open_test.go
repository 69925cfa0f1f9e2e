package tcp

// Opening a connection: RFC 9293 §3.5 (three-way handshake, simultaneous
// open, recovery from old duplicate SYNs, half-open connections), the
// SYN-SENT and LISTEN parts of §3.10.7, and reset generation (§3.5.2,
// §3.10.7.1).

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// The segment templates (fixtures_test.go) are what a real handshake at
// time 0 on testTuple exchanges: our SYN, then our ACK of the peer's
// SYN-ACK; and the listener's SYN-ACK to peerSYN.
func TestSegmentTemplatesMatchHandshake(t *testing.T) {
	c := &testConn{Conn: NewActive(newTestEnv(testConfig()), testTuple, 0)}
	expect(t, recv(t, c), ourSYN)
	send(t, c, peerSYNACK)
	expect(t, recv(t, c), fromUs)
	l, _ := listener(t)
	var out Output
	syn := peerSYN
	child := &testConn{Conn: l.Input(0, testTuple, &syn, &out), out: out}
	expect(t, child.take(t), ourSYNACK)
}

// RFC 9293 §3.10.7.3 fourth step: a SYN-ACK acknowledging our SYN moves
// SYN-SENT to ESTABLISHED and is answered <SEQ=SND.NXT><ACK=RCV.NXT><ACK>
// (figure 6, lines 3 and 4).
func TestSynSentSynAckEstablishes(t *testing.T) {
	c := connSynSent(t)
	c.now = 50 * time.Millisecond
	send(t, c, peerSYNACK)
	expect(t, recv(t, c), fromUs)
	expectState(t, c, Established)
	if ev := c.TakeEvents(); ev&EvEstablished == 0 || ev&EvWritable == 0 {
		t.Fatalf("events %b, want EvEstablished|EvWritable", ev)
	}
	if c.IRS() != rseq(0) || c.sndUna != c.lseq(1) || c.sndWnd != remoteWin {
		t.Fatalf("IRS %v SND.UNA %v SND.WND %d", c.IRS(), c.sndUna, c.sndWnd)
	}
	if c.env.Stats.ActiveOpens != 1 || c.env.Stats.CurrEstab != 1 {
		t.Fatalf("stats %+v", c.env.Stats)
	}
	// Data flows at once, <SEQ=ISS+1>.
	c.Write([]byte("hello"))
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).payload("hello"))
}

// RFC 9293 §3.10.7.3 first step: in SYN-SENT an ACK with SEG.ACK =< ISS or
// SEG.ACK > SND.NXT is answered <SEQ=SEG.ACK><CTL=RST> and dropped.
func TestSynSentBadAckGetsRstWithSeqSegAck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ack   func(c *testConn) seqnum.Value
		flags uint8
	}{
		{"ack=ISS", func(c *testConn) seqnum.Value { return c.lseq(0) }, 0},
		{"ack<ISS", func(c *testConn) seqnum.Value { return c.lseq(-1000) }, 0},
		{"ack>SND.NXT", func(c *testConn) seqnum.Value { return c.lseq(2) }, 0},
		{"plain ACK ack>SND.NXT", func(c *testConn) seqnum.Value { return c.lseq(100) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connSynSent(t)
			before := c.env.Stats
			fl := flagSYN | flagACK
			if tc.flags == 1 {
				fl = flagACK
			}
			bad := tc.ack(c)
			send(t, c, fromPeer.seq(rseq(0)).ack(bad).flags(fl))
			expect(t, recv(t, c), Segment{Seq: bad, Flags: flagRST})
			expectState(t, c, SynSent)
			expectDrop(t, c.env, before, DropBadAckInSynSent, 1)
		})
	}
	// "unless the RST bit is set, if so drop the segment and return".
	c := connSynSent(t)
	send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(5), Flags: flagRST | flagACK})
	expect(t, recv(t, c))
	expectState(t, c, SynSent)
}

// RFC 9293 §3.10.7.3 second step: in SYN-SENT a RST without an acceptable
// ACK is dropped; with one, the connection is refused.
func TestSynSentRstWithoutAckIgnored(t *testing.T) {
	c := connSynSent(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(0), Flags: flagRST})
	expect(t, recv(t, c))
	expectState(t, c, SynSent)
	expectDrop(t, c.env, before, DropRSTUnacceptable, 1)
	if c.Err() != nil {
		t.Fatalf("err %v", c.Err())
	}
}

func TestSynSentRstWithAckRefuses(t *testing.T) {
	c := connSynSent(t)
	send(t, c, Segment{Seq: 0, Ack: c.lseq(1), Flags: flagRST | flagACK})
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionRefused) {
		t.Fatalf("err %v, want ECONNREFUSED", c.Err())
	}
	if ev := c.TakeEvents(); ev&(EvError|EvClosed) != EvError|EvClosed {
		t.Fatalf("events %b", ev)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, ErrConnectionRefused) {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if c.env.Stats.AttemptFails != 1 {
		t.Fatalf("AttemptFails %d", c.env.Stats.AttemptFails)
	}
}

// RFC 9293 §3.10.7.3 fifth step: neither SYN nor RST: drop.
func TestSynSentNeitherSynNorRstDropped(t *testing.T) {
	c := connSynSent(t)
	before := c.env.Stats
	send(t, c, fromPeer.payload("x"))
	expect(t, recv(t, c))
	expectState(t, c, SynSent)
	expectDrop(t, c.env, before, DropNoSynOrRST, 1)
}

// RFC 9293 §3.5 figure 7 and MUST-10: both ends send SYNs that cross.
// Each goes SYN-SENT -> SYN-RECEIVED -> ESTABLISHED, answering the other's
// SYN with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, and each becomes
// ESTABLISHED on the other's SYN-ACK without further segments.
func TestSimultaneousOpen(t *testing.T) {
	// Scripted: we are TCP Peer A of figure 7.
	c := connSynSent(t)                              // line 2: --> <SEQ=ISS><CTL=SYN>
	send(t, c, Segment{Seq: rseq(0), Flags: flagSYN, // line 3: <-- <SEQ=R><CTL=SYN>
		Window: remoteWin, Options: mssOpt(remoteMSS)})
	expectState(t, c, SynReceived)
	if c.Passive() {
		t.Fatal("SYN-RECEIVED from SYN-SENT must remember the active open (MUST-11)")
	}
	// line 5: --> <SEQ=ISS><ACK=R+1><CTL=SYN,ACK>
	expect(t, recv(t, c), ourSYNACK)
	// line 6: <-- <SEQ=R><ACK=ISS+1><CTL=SYN,ACK>: ESTABLISHED.
	send(t, c, peerSYNACK)
	expectState(t, c, Established)
	expect(t, recv(t, c))
	if ev := c.TakeEvents(); ev&EvEstablished == 0 {
		t.Fatalf("events %b", ev)
	}
	// The SYN-ACK's window is not scaled and becomes SND.WND.
	if c.sndWnd != remoteWin || c.sndUna != c.lseq(1) {
		t.Fatalf("SND.WND %d SND.UNA %v", c.sndWnd, c.sndUna)
	}
	c.Write([]byte("a"))
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).payload("a"))
}

// The same, between two real TCBs, then data both ways.
func TestSimultaneousOpenTwoTCBs(t *testing.T) {
	env := newTestEnv(testConfig())
	a := &testConn{Conn: NewActive(env, testTuple, 0)}
	b := &testConn{Conn: NewActive(env, testTuple.Reverse(), 0)}
	synA, synB := recv(t, a), recv(t, b)
	deliver(t, synB, a)
	deliver(t, synA, b)
	expectState(t, a, SynReceived)
	expectState(t, b, SynReceived)
	synAckA, synAckB := recv(t, a), recv(t, b)
	if len(synAckA) != 1 || synAckA[0].Flags != flagSYN|flagACK || synAckA[0].Seq != a.ISS() || synAckA[0].Ack != b.ISS().Add(1) {
		t.Fatalf("A's SYN-ACK %v", synAckA)
	}
	deliver(t, synAckB, a)
	deliver(t, synAckA, b)
	expectState(t, a, Established)
	expectState(t, b, Established)
	expect(t, recv(t, a))
	expect(t, recv(t, b))
	a.Write([]byte("ping"))
	deliver(t, recv(t, a), b)
	buf := make([]byte, 8)
	if n, _ := b.Read(buf); string(buf[:n]) != "ping" {
		t.Fatalf("b read %q", buf[:n])
	}
}

func deliver(t testing.TB, segs []Segment, to *testConn) {
	t.Helper()
	for _, s := range segs {
		send(t, to, s)
	}
}

// MUST-11: SYN-RECEIVED remembers whether it came from LISTEN. A RST
// returns a passive child to LISTEN (the listener forgets it, the user is
// not told), while an active open in SYN-RECEIVED is refused (§3.10.7.4
// second check, SYN-RECEIVED).
func TestSynReceivedRemembersPassiveOpen(t *testing.T) {
	c := connSynReceivedPassive(t)
	if !c.Passive() {
		t.Fatal("listener child not marked passive")
	}
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST})
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if c.Err() != nil {
		t.Fatalf("passive child got error %v; the user need not be informed", c.Err())
	}
	if h, r := c.l.Pending(); h != 0 || r != 0 {
		t.Fatalf("listener still holds the child: %d %d", h, r)
	}
	// The listener itself is still in LISTEN: the same SYN starts over.
	c2 := accept(t, c.l, c.env, 0, peerSYN)
	expectState(t, c2, SynReceived)

	a := connSynReceivedActive(t)
	send(t, a, Segment{Seq: rseq(1), Flags: flagRST})
	expectState(t, a, Closed)
	if !errors.Is(a.Err(), ErrConnectionRefused) {
		t.Fatalf("active SYN-RECEIVED reset: err %v, want ECONNREFUSED", a.Err())
	}
}

// RFC 9293 §3.10.7.4 fourth check, SYN-RECEIVED: a SYN (other than a
// retransmission of the first) returns a passive child to LISTEN; an
// active one gets a challenge ACK like the synchronized states.
func TestSynReceivedSynReturnsToListen(t *testing.T) {
	c := connSynReceivedPassive(t)
	send(t, c, Segment{Seq: rseq(100), Flags: flagSYN, Window: remoteWin})
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if c.Err() != nil {
		t.Fatalf("err %v", c.Err())
	}
	if h, _ := c.l.Pending(); h != 0 {
		t.Fatalf("half-open %d", h)
	}

	a := connSynReceivedActive(t)
	send(t, a, Segment{Seq: rseq(100), Flags: flagSYN, Window: remoteWin})
	expect(t, recv(t, a), fromUs.seq(a.lseq(1)))
	expectState(t, a, SynReceived)
}

// A retransmission of the peer's SYN means our SYN-ACK was lost: send it
// again.
func TestSynReceivedRetransmittedSynGetsSynAck(t *testing.T) {
	c := connSynReceivedPassive(t)
	c.now = 300 * time.Millisecond
	send(t, c, peerSYN)
	expect(t, recv(t, c), ourSYNACK)
	expectState(t, c, SynReceived)
}

// RFC 9293 §3.10.7.4 fifth check, SYN-RECEIVED: an ACK that does not
// satisfy SND.UNA < SEG.ACK =< SND.NXT is answered <SEQ=SEG.ACK><CTL=RST>.
func TestSynReceivedBadAckGetsRst(t *testing.T) {
	for _, off := range []int{0, 2, 1000} {
		c := connSynReceivedPassive(t)
		before := c.env.Stats
		send(t, c, fromPeer.ack(c.lseq(off)))
		expect(t, recv(t, c), Segment{Seq: c.lseq(off), Flags: flagRST})
		expectState(t, c, SynReceived)
		expectDrop(t, c.env, before, DropBadAckInSynReceived, 1)
	}
}

// RFC 9293 §3.10.7.4 fifth check: a segment without ACK is dropped.
func TestSynReceivedNoAckDropped(t *testing.T) {
	c := connSynReceivedPassive(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(1), Flags: flagPSH, Payload: []byte("data")})
	expect(t, recv(t, c))
	expectState(t, c, SynReceived)
	expectDrop(t, c.env, before, DropAckNotSet, 1)
}

// The final ACK of the three-way handshake (figure 6 line 4) moves a
// passive child to ESTABLISHED and onto the accept queue.
func TestPassiveOpenHandshake(t *testing.T) {
	c := connSynReceivedPassive(t)
	if h, r := c.l.Pending(); h != 1 || r != 0 {
		t.Fatalf("pending %d %d", h, r)
	}
	c.now = 20 * time.Millisecond
	send(t, c, fromPeer)
	expect(t, recv(t, c))
	expectState(t, c, Established)
	if h, r := c.l.Pending(); h != 0 || r != 1 {
		t.Fatalf("pending %d %d", h, r)
	}
	if got := c.l.Accept(); got != c.Conn {
		t.Fatal("Accept returned another connection")
	}
	if c.env.Stats.PassiveOpens != 1 || c.env.Stats.CurrEstab != 1 {
		t.Fatalf("stats %+v", c.env.Stats)
	}
	if srtt, _ := c.RTT(); srtt != 20*time.Millisecond {
		t.Fatalf("handshake RTT sample %v, want 20ms", srtt)
	}
}

// RFC 9293 §3.5 figure 8: recovery from an old duplicate SYN. B (a
// listener) answers the old SYN; A, in SYN-SENT, sees an unacceptable ACK
// and sends <SEQ=SEG.ACK><CTL=RST>; B returns to LISTEN; A's real SYN then
// opens the connection normally.
func TestOldDuplicateSynRecovery(t *testing.T) {
	l, env := listener(t)
	a := &testConn{Conn: NewActive(env, testTuple.Reverse(), 0)}
	synA := recv(t, a) // line 2: A --> <SEQ=100><CTL=SYN> ... (delayed)
	old := Segment{Seq: a.ISS().Sub(10), Flags: flagSYN, Window: remoteWin}
	b := accept(t, l, env, 0, old) // line 3: old SYN <SEQ=90> --> B
	synAck := recv(t, b)           // line 4: B <-- <SEQ=300><ACK=91><CTL=SYN,ACK>
	expect(t, synAck, ourSYNACK.seq(b.ISS()).ack(a.ISS().Sub(9)))
	deliver(t, synAck, a)
	rst := recv(t, a) // line 5: A --> <SEQ=91><CTL=RST>
	expect(t, rst, Segment{Seq: a.ISS().Sub(9), Flags: flagRST})
	expectState(t, a, SynSent)
	deliver(t, rst, b)
	expectState(t, b, Closed) // B returns to LISTEN
	if b.Err() != nil {
		t.Fatalf("B err %v", b.Err())
	}
	if h, r := l.Pending(); h != 0 || r != 0 {
		t.Fatalf("listener pending %d %d", h, r)
	}
	// line 6: the original SYN arrives; lines 7-8 complete normally.
	b2 := accept(t, l, env, 0, synA[0])
	deliver(t, recv(t, b2), a)
	expectState(t, a, Established)
	deliver(t, recv(t, a), b2)
	expectState(t, b2, Established)
}

// RFC 9293 §3.5.1 figure 9: A crashed and reopens with a new SYN; B, still
// ESTABLISHED, answers with an ACK of what it expects (a challenge ACK,
// RFC 5961 §4); A, in SYN-SENT, finds the ACK unacceptable and resets;
// the RST carries SEQ=SEG.ACK = B's RCV.NXT, so B aborts.
func TestHalfOpenDiscoveryPeerReopens(t *testing.T) {
	b := connEstablished(t) // "send 300, receive 100"
	a := &testConn{Conn: NewActive(newTestEnv(testConfig()), testTuple.Reverse(), 7*time.Second), now: 7 * time.Second}
	b.now = 7 * time.Second
	syn := recv(t, a) // line 3: A --> <SEQ=400><CTL=SYN>
	deliver(t, syn, b)
	ack := recv(t, b) // line 4: B <-- <SEQ=300><ACK=100><CTL=ACK>
	expect(t, ack, fromUs.seq(b.lseq(1)))
	deliver(t, ack, a)
	rst := recv(t, a) // line 5: A --> <SEQ=100><CTL=RST>
	expect(t, rst, Segment{Seq: rseq(1), Flags: flagRST})
	deliver(t, rst, b)
	expectState(t, b, Closed) // (Abort!!)
	if !errors.Is(b.Err(), ErrConnectionReset) {
		t.Fatalf("B err %v", b.Err())
	}
	expectState(t, a, SynSent) // line 7: A keeps trying
}

// RFC 9293 §3.5.1 figure 10: A crashed and B sends data. A has no TCB: if
// it listens on the port, LISTEN answers an ACK-bearing segment with
// <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2); if not, the CLOSED rule (ResetFor,
// §3.10.7.1) does the same. Either RST has SEQ = B's RCV.NXT and aborts B.
func TestHalfOpenDiscoveryActiveSide(t *testing.T) {
	for _, listening := range []bool{true, false} {
		b := connEstablished(t)
		b.Write([]byte("0123456789"))
		data := recv(t, b) // line 2: B --> <SEQ=300><ACK=100><DATA=10><CTL=ACK>
		expect(t, data, fromUs.seq(b.lseq(1)).flags(flagACK|flagPSH).payload("0123456789"))
		var rst Segment
		if listening {
			l, _ := listener(t)
			var out Output
			if l.Input(0, testTuple.Reverse(), &data[0], &out) != nil {
				t.Fatal("listener made a child from a data segment")
			}
			if len(out.Segs) != 1 {
				t.Fatalf("listener sent %d segments", len(out.Segs))
			}
			rst = out.Segs[0].Seg
		} else if !ResetFor(&data[0], &rst) {
			t.Fatal("ResetFor declined")
		}
		expect(t, []Segment{rst}, Segment{Seq: rseq(1), Flags: flagRST}) // line 3
		send(t, b, rst)
		expectState(t, b, Closed) // (ABORT!!)
		if !errors.Is(b.Err(), ErrConnectionReset) {
			t.Fatalf("err %v", b.Err())
		}
	}
}

// RFC 9293 §3.5.1 figure 11: an old duplicate SYN reaches B, which is
// listening; its SYN-ACK reaches A, also listening, which resets it
// (<SEQ=Z+1><CTL=RST>); B returns to LISTEN.
func TestOldDuplicateSynResetsTwoPassiveSockets(t *testing.T) {
	la, _ := listener(t)
	lb, envB := listener(t)
	const z = seqnum.Value(0x7fff_fff0)
	b := accept(t, lb, envB, 0, Segment{Seq: z, Flags: flagSYN, Window: remoteWin}) // line 2
	synAck := recv(t, b)                                                            // line 3
	expect(t, synAck, ourSYNACK.seq(b.ISS()).ack(z+1))
	var out Output
	if la.Input(0, testTuple.Reverse(), &synAck[0], &out) != nil {
		t.Fatal("A's listener made a child from a SYN-ACK")
	}
	if len(out.Segs) != 1 {
		t.Fatalf("A sent %d segments", len(out.Segs))
	}
	expect(t, []Segment{out.Segs[0].Seg}, Segment{Seq: z + 1, Flags: flagRST}) // line 4
	send(t, b, out.Segs[0].Seg)
	expectState(t, b, Closed) // (return to LISTEN!)
	if h, r := lb.Pending(); h != 0 || r != 0 || b.Err() != nil {
		t.Fatalf("B: pending %d %d, err %v", h, r, b.Err())
	}
	if h, r := la.Pending(); h != 0 || r != 0 {
		t.Fatalf("A: pending %d %d", h, r)
	}
}

// RFC 9293 §3.10.7.1 (CLOSED): an ACK-bearing segment gets
// <SEQ=SEG.ACK><CTL=RST>.
func TestResetForAckBearingSegment(t *testing.T) {
	var rst Segment
	seg := Segment{Seq: 1000, Ack: 5000, Flags: flagACK | flagPSH, Window: 100, Payload: []byte("abc")}
	if !ResetFor(&seg, &rst) {
		t.Fatal("no reset")
	}
	expect(t, []Segment{rst}, Segment{Seq: 5000, Flags: flagRST})
}

// RFC 9293 §3.10.7.1: a segment without ACK gets
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting SYN and FIN.
func TestResetForSegmentWithoutAck(t *testing.T) {
	for _, tc := range []struct {
		seg  Segment
		want seqnum.Value
	}{
		{Segment{Seq: 1000, Flags: flagSYN}, 1001},
		{Segment{Seq: 1000, Flags: flagSYN | flagFIN, Payload: []byte("hello")}, 1007},
		{Segment{Seq: 0xffff_fffe, Flags: flagFIN, Payload: []byte("xy")}, 1},
		{Segment{Seq: 42}, 42},
	} {
		rst := Segment{Seq: 77, Window: 9, Payload: []byte("junk")} // ResetFor must clear it
		if !ResetFor(&tc.seg, &rst) {
			t.Fatal("no reset")
		}
		expect(t, []Segment{rst}, Segment{Seq: 0, Ack: tc.want, Flags: flagRST | flagACK})
	}
}

// RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded."
func TestResetForNeverAnswersRst(t *testing.T) {
	var rst Segment
	for _, seg := range []Segment{
		{Seq: 1, Flags: flagRST},
		{Seq: 1, Ack: 2, Flags: flagRST | flagACK},
		{Seq: 1, Flags: flagRST | flagSYN, Payload: []byte("x")},
	} {
		if ResetFor(&seg, &rst) {
			t.Fatalf("answered %s", fmtSeg(&seg))
		}
	}
}

// A CLOSED TCB drops everything; answering is the runtime's job with
// ResetFor (pending in the runtime's tests).
func TestClosedConnDropsSegments(t *testing.T) {
	c := connEstablished(t)
	c.Abort(c.now, &c.out)
	c.take(t)
	before := c.env.Stats
	send(t, c, fromPeer.win(0).payload("x"))
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropClosed, 1)
}

// RFC 9293 §3.10.7.2 (LISTEN): a RST is ignored, an ACK gets
// <SEQ=SEG.ACK><CTL=RST>, a SYN makes a child, anything else is dropped.
func TestListenSegmentRules(t *testing.T) {
	l, env := listener(t)
	var out Output
	in := func(seg Segment) *Conn { return l.Input(0, testTuple, &seg, &out) }

	if in(Segment{Seq: 5, Flags: flagRST}) != nil || in(Segment{Seq: 5, Ack: 9, Flags: flagRST | flagACK}) != nil || len(out.Segs) != 0 {
		t.Fatal("RST in LISTEN must be ignored")
	}
	if in(Segment{Seq: 5, Ack: 9, Flags: flagACK, Payload: []byte("x")}) != nil {
		t.Fatal("child from an ACK")
	}
	if in(Segment{Seq: 5, Ack: 10, Flags: flagSYN | flagACK}) != nil {
		t.Fatal("child from a SYN-ACK")
	}
	got := []Segment{out.Segs[0].Seg, out.Segs[1].Seg}
	expect(t, got, Segment{Seq: 9, Flags: flagRST}, Segment{Seq: 10, Flags: flagRST})
	out.Reset()
	if in(Segment{Seq: 5, Flags: flagFIN}) != nil || in(Segment{Seq: 5, Payload: []byte("x")}) != nil || len(out.Segs) != 0 {
		t.Fatal("segment without SYN/ACK/RST must be dropped silently")
	}
	if env.Stats.Drops[DropListenRST] != 2 || env.Stats.Drops[DropListenAck] != 2 || env.Stats.Drops[DropListenNoSyn] != 2 {
		t.Fatalf("drops %v", env.Stats.Drops)
	}
	if c := in(peerSYN); c == nil || c.State() != SynReceived || c.IRS() != remoteISS {
		t.Fatal("SYN did not make a SYN-RECEIVED child")
	}
}

// RFC 9293 §3.10.7.2: text on a SYN is queued until ESTABLISHED; the
// SYN-ACK acknowledges only the SYN.
func TestDataOnSynBufferedUntilEstablished(t *testing.T) {
	l, env := listener(t)
	syn := peerSYN
	syn.Payload = []byte("early data")
	c := accept(t, l, env, 0, syn)
	expect(t, recv(t, c), ourSYNACK)
	if c.Readable() != 0 {
		t.Fatalf("SYN text readable in SYN-RECEIVED: %d", c.Readable())
	}
	if n, err := c.Read(make([]byte, 16)); n != 0 || err != nil {
		t.Fatalf("Read in SYN-RECEIVED = %d, %v", n, err)
	}
	send(t, c, fromPeer)
	expectState(t, c, Established)
	expect(t, recv(t, c), fromUs.ack(rseq(11)).win(testBuf-10))
	buf := make([]byte, 16)
	if n, _ := c.Read(buf); string(buf[:n]) != "early data" {
		t.Fatalf("read %q", buf[:n])
	}
}

// Same rule on the active side of a simultaneous open: the peer's SYN text
// waits for ESTABLISHED. And a SYN-ACK's text (RFC 9293 §3.10.7.3: "continue
// processing at the sixth step") is delivered at once.
func TestSynAckWithDataDelivered(t *testing.T) {
	c := connSynSent(t)
	send(t, c, fromPeer.seq(rseq(0)).flags(flagSYN|flagACK).payload("banner"))
	expectState(t, c, Established)
	expect(t, recv(t, c), fromUs.ack(rseq(7)).win(testBuf-6))
	buf := make([]byte, 16)
	if n, _ := c.Read(buf); string(buf[:n]) != "banner" {
		t.Fatalf("read %q", buf[:n])
	}

	a := connSynSent(t)
	send(t, a, Segment{Seq: rseq(0), Flags: flagSYN, Window: remoteWin, Payload: []byte("hi")})
	expect(t, recv(t, a), ourSYNACK.seq(a.lseq(0)))
	if a.Readable() != 0 {
		t.Fatal("simultaneous-open SYN text readable before ESTABLISHED")
	}
	send(t, a, fromPeer.ack(a.lseq(1)))
	expectState(t, a, Established)
	if a.Readable() != 2 {
		t.Fatalf("readable %d after ESTABLISHED", a.Readable())
	}
	expect(t, recv(t, a), fromUs.seq(a.lseq(1)).ack(rseq(3)).win(testBuf-2))
}

// A SYN-ACK carrying more text than our SYN's window is cut to the window
// (RFC 9293 §3.10.7.4: "trimming off any portions that lie outside the
// window").
func TestSynAckDataTrimmedToWindow(t *testing.T) {
	cfg := testConfig()
	env := newTestEnv(cfg)
	c := &testConn{Conn: NewActive(env, testTuple, 0)}
	c.SetBuffers(0, 1000)
	expect(t, recv(t, c), ourSYN.win(1000))
	big := make([]byte, 1400)
	for i := range big {
		big[i] = byte(i)
	}
	send(t, c, fromPeer.seq(rseq(0)).flags(flagSYN|flagACK|flagFIN).data(big))
	expectState(t, c, Established)
	if c.Readable() != 1000 || c.rcv.n > c.rcv.limit {
		t.Fatalf("readable %d, buffer %d/%d", c.Readable(), c.rcv.n, c.rcv.limit)
	}
	expect(t, recv(t, c), fromUs.ack(rseq(1001)).win(0))
	buf := make([]byte, 2000)
	n, _ := c.Read(buf)
	if n != 1000 || string(buf[:n]) != string(big[:1000]) {
		t.Fatalf("read %d bytes", n)
	}
}

// RFC 9293 §3.10.7.4 eighth step, SYN-RECEIVED: a FIN moves the
// connection (through ESTABLISHED) to CLOSE-WAIT. Here the final ACK of
// the handshake carries it.
func TestFinInSynReceived(t *testing.T) {
	c := connSynReceivedPassive(t)
	send(t, c, fromPeer.flags(flagACK|flagFIN))
	expectState(t, c, CloseWait)
	expect(t, recv(t, c), fromUs.ack(rseq(2)).win(testBuf-1))
	if n, err := c.Read(make([]byte, 4)); n != 0 || err == nil {
		t.Fatalf("Read = %d, %v; want EOF", n, err)
	}
	if h, r := c.l.Pending(); h != 0 || r != 1 {
		t.Fatalf("pending %d %d", h, r)
	}
}

// A FIN on the SYN itself is queued with the SYN's text and processed once
// the handshake completes.
func TestFinOnSynQueuedUntilEstablished(t *testing.T) {
	l, env := listener(t)
	syn := peerSYN
	syn.Flags |= flagFIN
	syn.Payload = []byte("GET /")
	c := accept(t, l, env, 0, syn)
	expect(t, recv(t, c), ourSYNACK)
	expectState(t, c, SynReceived)
	send(t, c, fromPeer.seq(rseq(7)))
	expectState(t, c, CloseWait)
	expect(t, recv(t, c), fromUs.ack(rseq(7)).win(testBuf-6))
}

// CLOSE in SYN-SENT deletes the TCB without a segment (RFC 9293 §3.10.4).
func TestCloseInSynSent(t *testing.T) {
	c := connSynSent(t)
	c.Close(c.now, &c.out)
	expect(t, recv(t, c))
	expectState(t, c, Closed)
}

// CLOSE in SYN-RECEIVED with nothing written sends the FIN at once and
// enters FIN-WAIT-1 (RFC 9293 §3.10.4); the ACK of SYN and FIN then leads
// to FIN-WAIT-2. If the SYN-ACK is lost, it goes again before the FIN.
func TestCloseInSynReceivedSendsFin(t *testing.T) {
	c := connSynReceivedPassive(t)
	c.CloseWrite(c.now)
	expectState(t, c, FinWait1)
	fin := Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagFIN, Window: testBuf}
	expect(t, recv(t, c), fin)
	c.now = c.Deadline()
	expect(t, recv(t, c),
		Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)}, fin)
	send(t, c, fromPeer.ack(c.lseq(2)))
	expectState(t, c, FinWait2)
}

// CLOSE in SYN-RECEIVED with data written queues the FIN behind the data
// until ESTABLISHED (RFC 9293 §3.10.4), then FIN-WAIT-1.
func TestCloseInSynReceivedQueuesFinBehindData(t *testing.T) {
	c := connSynReceivedPassive(t)
	c.Write([]byte("hi"))
	c.CloseWrite(c.now)
	expect(t, recv(t, c))
	expectState(t, c, SynReceived)
	send(t, c, fromPeer)
	expectState(t, c, FinWait1)
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH|flagFIN).payload("hi"))
}

// ABORT in SYN-RECEIVED and the synchronized states sends
// <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5); in SYN-SENT, CLOSING,
// LAST-ACK and TIME-WAIT it sends nothing. The user hears ECONNABORTED.
func TestAbortSendsRstWhenSynchronized(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(testing.TB) *testConn
		rst  int // our sequence offset of the RST, or -1 for none
	}{
		{"SYN-SENT", connSynSent, -1},
		{"SYN-RECEIVED", connSynReceivedPassive, 1},
		{"ESTABLISHED", connEstablished, 1},
		{"FIN-WAIT-1", connFinWait1, 2},
		{"FIN-WAIT-2", connFinWait2, 2},
		{"CLOSE-WAIT", connCloseWait, 1},
		{"CLOSING", connClosing, -1},
		{"LAST-ACK", connLastAck, -1},
		{"TIME-WAIT", connTimeWait, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.mk(t)
			c.Abort(c.now, &c.out)
			if tc.rst < 0 {
				expect(t, recv(t, c))
			} else {
				expect(t, recv(t, c), Segment{Seq: c.lseq(tc.rst), Flags: flagRST})
			}
			expectState(t, c, Closed)
			if !errors.Is(c.Err(), ErrConnectionAborted) {
				t.Fatalf("err %v", c.Err())
			}
		})
	}
}

// Listener SYN queue: a SYN beyond the limit is dropped and counted.
func TestListenerSynQueueFull(t *testing.T) {
	l, env := listener(t)
	env.Config.SynCookies = CookiesOff // with cookies a full queue answers statelessly (cookie_test.go)
	l.SynQueue = 2
	var out Output
	for i := 0; i < 3; i++ {
		tu := testTuple
		tu.RemotePort += uint16(i)
		seg := peerSYN
		c := l.Input(0, tu, &seg, &out)
		if (c == nil) != (i == 2) {
			t.Fatalf("SYN %d: child %v", i, c)
		}
	}
	if len(out.Segs) != 2 {
		t.Fatalf("%d SYN-ACKs", len(out.Segs))
	}
	if env.Stats.Drops[DropSynQueueFull] != 1 || env.Stats.ListenDrops != 1 {
		t.Fatalf("drops %d, ListenDrops %d", env.Stats.Drops[DropSynQueueFull], env.Stats.ListenDrops)
	}
	if h, _ := l.Pending(); h != 2 {
		t.Fatalf("half-open %d", h)
	}
}

// Listener accept queue: a final ACK that would overflow it is ignored
// (the child stays in SYN-RECEIVED and retransmits its SYN-ACK), and while
// it is full no new SYN is taken.
func TestListenerAcceptQueueFull(t *testing.T) {
	l, env := listener(t)
	l.AcceptQueue = 1
	kids := make([]*testConn, 2)
	for i := range kids {
		tu := testTuple
		tu.RemotePort += uint16(i)
		seg := peerSYN
		kids[i] = &testConn{l: l}
		kids[i].Conn = l.Input(0, tu, &seg, &kids[i].out)
		kids[i].take(t)
	}
	ack := func(c *testConn) {
		send(t, c, fromPeer.ack(c.lseq(1))) // each tuple has its own ISS
	}
	ack(kids[0])
	expectState(t, kids[0], Established)
	ack(kids[1])
	expectState(t, kids[1], SynReceived)
	expect(t, recv(t, kids[1]))
	if env.Stats.ListenOverflows != 1 || env.Stats.Drops[DropAcceptQueueFull] != 1 {
		t.Fatalf("ListenOverflows %d drops %d", env.Stats.ListenOverflows, env.Stats.Drops[DropAcceptQueueFull])
	}
	var out Output
	seg := peerSYN
	tu := testTuple
	tu.RemotePort = 1
	if l.Input(0, tu, &seg, &out) != nil || len(out.Segs) != 0 {
		t.Fatal("new SYN taken while the accept queue is full")
	}
	// Once the user accepts, the SYN-ACK retransmission and the peer's
	// repeated ACK complete the second child.
	if l.Accept() != kids[0].Conn {
		t.Fatal("accept")
	}
	kids[1].now = time.Second
	expect(t, recv(t, kids[1]), ourSYNACK.seq(kids[1].lseq(0)))
	ack(kids[1])
	expectState(t, kids[1], Established)
	if _, r := l.Pending(); r != 1 {
		t.Fatalf("ready %d", r)
	}
}

// Closing a listener aborts its unaccepted children, each with a RST.
func TestListenerCloseResetsChildren(t *testing.T) {
	l, env := listener(t)
	half := accept(t, l, env, 0, peerSYN)
	half.take(t)
	tu := testTuple
	tu.RemotePort++
	ready := &testConn{l: l}
	seg := peerSYN
	ready.Conn = l.Input(0, tu, &seg, &ready.out)
	ready.take(t)
	send(t, ready, fromPeer.ack(ready.lseq(1)))
	expectState(t, ready, Established)

	var out Output
	closed := l.Close(0, &out, nil)
	if len(closed) != 2 || len(out.Segs) != 2 {
		t.Fatalf("closed %d, segments %d", len(closed), len(out.Segs))
	}
	for i, c := range []*testConn{half, ready} {
		if out.Segs[i].Tuple != c.Tuple() {
			t.Fatalf("RST %d on %v", i, out.Segs[i].Tuple)
		}
		expect(t, []Segment{out.Segs[i].Seg}, Segment{Seq: c.lseq(1), Flags: flagRST})
		expectState(t, c, Closed)
	}
	if h, r := l.Pending(); h != 0 || r != 0 || l.Accept() != nil {
		t.Fatalf("pending %d %d", h, r)
	}
	seg = peerSYN
	if l.Input(0, testTuple, &seg, &out) != nil {
		t.Fatal("closed listener took a SYN")
	}
}

// Text on the final ACK of a handshake whose SYN carried text is cut to
// the window that is left once the SYN's text is in order (RFC 9293
// §3.10.7.4 trimming), not to the window the SYN-ACK offered.
func TestFinalAckTextTrimmedAfterSynText(t *testing.T) {
	cfg := testConfig()
	cfg.RecvBuffer = 1000
	l, env := listenerWith(t, cfg)
	syn := peerSYN
	syn.Payload = pattern(0, 600)
	c := accept(t, l, env, 0, syn)
	expect(t, recv(t, c), ourSYNACK.win(1000))
	send(t, c, fromPeer.seq(rseq(601)).data(pattern(600, 1000)))
	expectState(t, c, Established)
	expect(t, recv(t, c), fromUs.ack(rseq(1001)).win(0))
	buf := make([]byte, 2000)
	if n, _ := c.Read(buf); n != 1000 || !bytes.Equal(buf[:n], pattern(0, 1000)) {
		t.Fatalf("read %d octets", n)
	}
}
