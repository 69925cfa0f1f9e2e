package tcp

// Data transfer and windows: RFC 9293 §3.4 and §3.10.7.4 (segment
// acceptability and trimming), §3.8.6 (window management: zero windows,
// probing, silly window syndrome avoidance), §3.7.4 (Nagle), §3.8.6.3 (ACK
// generation) and RFC 2018 (SACK blocks).

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// smallRecv returns an established connection with a 3000-byte receive
// buffer whose window the peer has just filled: RCV.WND = 0 at R+3001.
func smallRecv(t *testing.T) *testConn {
	t.Helper()
	cfg := testConfig()
	cfg.RecvBuffer = 3000
	c := connEstablishedWith(t, cfg)
	send(t, c, fromPeer.data(pattern(0, 1460)))
	send(t, c, fromPeer.seq(rseq(1461)).data(pattern(1460, 1460)))
	send(t, c, fromPeer.seq(rseq(2921)).flags(flagACK|flagPSH).data(pattern(2920, 80)))
	expect(t, recv(t, c), fromUs.ack(rseq(3001)).win(0))
	return c
}

// Acceptability, case 1 (RFC 9293 §3.10.7.4): SEG.LEN = 0, RCV.WND = 0:
// acceptable only if SEG.SEQ = RCV.NXT. Its ACK is processed ("special
// allowance should be made to accept valid ACKs").
func TestAcceptabilityEmptySegmentZeroWindow(t *testing.T) {
	c := smallRecv(t)
	c.Write([]byte("hi"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(3001), Flags: flagACK | flagPSH, Window: 0, Payload: []byte("hi")})

	send(t, c, fromPeer.seq(rseq(3001)).ack(c.lseq(3)))
	expect(t, recv(t, c))
	if c.sndUna != c.lseq(3) {
		t.Fatalf("SND.UNA %v: the ACK was not processed", c.sndUna)
	}
	for _, seq := range []seqnum.Value{rseq(3002), rseq(3000), rseq(100000)} {
		c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
		before := c.env.Stats
		send(t, c, fromPeer.seq(seq).ack(c.lseq(3)))
		expect(t, recv(t, c), fromUs.seq(c.lseq(3)).ack(rseq(3001)).win(0))
		expectDrop(t, c.env, before, DropOutOfWindow, 1)
	}
}

// Acceptability, case 2: SEG.LEN = 0, RCV.WND > 0: acceptable if
// RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND; otherwise <SEQ=SND.NXT><ACK=RCV.NXT>.
func TestAcceptabilityEmptySegmentOpenWindow(t *testing.T) {
	c := connEstablished(t)
	for _, seq := range []seqnum.Value{rseq(1), rseq(2), rseq(testBuf)} {
		send(t, c, fromPeer.seq(seq))
		expect(t, recv(t, c))
	}
	for _, seq := range []seqnum.Value{rseq(0), rseq(testBuf + 1), rseq(-50000)} {
		c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
		send(t, c, fromPeer.seq(seq))
		expect(t, recv(t, c), fromUs)
	}
}

// Acceptability, case 3: SEG.LEN > 0, RCV.WND = 0: not acceptable; the
// text is dropped and an ACK sent, so a zero-window probe learns the
// window. The segment's ACK and RST are still processed (MUST-66).
func TestAcceptabilityDataZeroWindow(t *testing.T) {
	c := smallRecv(t)
	c.Write([]byte("hi"))
	recv(t, c)
	before := c.env.Stats
	send(t, c, fromPeer.seq(rseq(3001)).ack(c.lseq(3)).payload("x"))
	expect(t, recv(t, c), fromUs.seq(c.lseq(3)).ack(rseq(3001)).win(0))
	if c.sndUna != c.lseq(3) || c.Readable() != 3000 {
		t.Fatalf("SND.UNA %v readable %d", c.sndUna, c.Readable())
	}
	_ = before
	send(t, c, fromPeer.seq(rseq(3002)).ack(c.lseq(3)).payload("y"))
	expect(t, recv(t, c), fromUs.seq(c.lseq(3)).ack(rseq(3001)).win(0))
	// A bare FIN at RCV.NXT is text-like here: it too waits for a window.
	send(t, c, fromPeer.seq(rseq(3001)).ack(c.lseq(3)).flags(flagACK|flagFIN))
	expect(t, recv(t, c), fromUs.seq(c.lseq(3)).ack(rseq(3001)).win(0))
	expectState(t, c, Established)
	// MUST-66: a RST is processed even with a zero window.
	send(t, c, Segment{Seq: rseq(3001), Flags: flagRST})
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionReset) {
		t.Fatalf("err %v", c.Err())
	}
}

// Acceptability, case 4: SEG.LEN > 0, RCV.WND > 0: acceptable if the
// first or the last sequence number lies in the window.
func TestAcceptabilityDataOpenWindow(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.payload("hello"))
	expect(t, recv(t, c), fromUs.ack(rseq(6)).win(testBuf-5))
	// First octet before the window, last inside: acceptable, trimmed.
	send(t, c, fromPeer.payload("hello world"))
	expect(t, recv(t, c), fromUs.ack(rseq(12)).win(testBuf-11))
	// Entirely old: a duplicate, answered with an ACK.
	before := c.env.Stats
	send(t, c, fromPeer.payload("hello"))
	expect(t, recv(t, c), fromUs.ack(rseq(12)).win(testBuf-11))
	expectDrop(t, c.env, before, DropOutOfWindow, 1)
	// Entirely beyond the window: answered with an ACK.
	c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
	send(t, c, fromPeer.seq(rseq(12+testBuf)).payload("far"))
	expect(t, recv(t, c), fromUs.ack(rseq(12)).win(testBuf-11))
	buf := make([]byte, 64)
	if n, _ := c.Read(buf); string(buf[:n]) != "hello world" {
		t.Fatalf("read %q", buf[:n])
	}
}

// RFC 9293 §3.10.7.4: text before RCV.NXT is cut off; so is text beyond
// the right edge of the window, together with a FIN that follows it.
func TestTrimmingAtBothEdges(t *testing.T) {
	cfg := testConfig()
	cfg.RecvBuffer = 3000
	c := connEstablishedWith(t, cfg)
	send(t, c, fromPeer.data(pattern(0, 1000)))
	expect(t, recv(t, c), fromUs.ack(rseq(1001)).win(2000))
	// Overlapping 500 old octets on the left: the new 500 are kept.
	send(t, c, fromPeer.seq(rseq(501)).data(pattern(500, 1000)))
	expect(t, recv(t, c), fromUs.ack(rseq(1501)).win(1500))
	// Running 500 past the right edge, with a FIN: 1500 are kept, no FIN.
	send(t, c, fromPeer.seq(rseq(1501)).flags(flagACK|flagFIN).data(pattern(1500, 2000)))
	expect(t, recv(t, c), fromUs.ack(rseq(3001)).win(0))
	expectState(t, c, Established)
	buf := make([]byte, 4000)
	n, _ := c.Read(buf)
	if !bytes.Equal(buf[:n], pattern(0, 3000)) {
		t.Fatalf("read %d octets, not the stream", n)
	}
	// A FIN that fits the window exactly after the text is taken.
	expect(t, recv(t, c), fromUs.ack(rseq(3001)).win(3000))
	send(t, c, fromPeer.seq(rseq(3001)).flags(flagACK|flagFIN).data(pattern(3000, 3000)))
	expectState(t, c, CloseWait)
	expect(t, recv(t, c), fromUs.ack(rseq(6002)).win(0))
	if c.rcvAdv.LessThan(c.rcvNxt) {
		t.Fatalf("RCV.NXT %v beyond the window edge %v", c.rcvNxt, c.rcvAdv)
	}
}

// The four-case test looks at the first and the last sequence number
// only, so a segment that overhangs both edges of the window is not
// acceptable (RFC 9293 §3.10.7.4, as written; Linux would take its middle).
func TestAcceptabilityOverhangingBothEdges(t *testing.T) {
	cfg := testConfig()
	cfg.RecvBuffer = 3000
	c := connEstablishedWith(t, cfg)
	send(t, c, fromPeer.data(pattern(0, 1000)))
	expect(t, recv(t, c), fromUs.ack(rseq(1001)).win(2000))
	send(t, c, fromPeer.seq(rseq(501)).data(pattern(500, 3000)))
	expect(t, recv(t, c), fromUs.ack(rseq(1001)).win(2000))
	if c.Readable() != 1000 {
		t.Fatalf("readable %d", c.Readable())
	}
}

// SHLD-31 and MAY-13: out-of-order text is held and answered at once with
// a duplicate ACK; RFC 2018 §4: with SACK the ACK lists the held blocks,
// the block holding the newest segment first.
func TestOutOfOrderReassemblyAndSACK(t *testing.T) {
	c := connEstablished(t)
	c.sackOK = true // as if both SYNs carried SACK-permitted
	sack := func(blocks ...int) Segment {
		s := Segment{Seq: c.lseq(1), Flags: flagACK}
		for i := 0; i+1 < len(blocks); i += 2 {
			s.Options.SACK[s.Options.NumSACK].Start = uint32(rseq(blocks[i]))
			s.Options.SACK[s.Options.NumSACK].End = uint32(rseq(blocks[i+1]))
			s.Options.NumSACK++
		}
		return s
	}
	data := func(from, n int) Segment {
		return fromPeer.seq(rseq(1 + from)).data(pattern(from, n))
	}
	want := func(ack, win int, blocks ...int) Segment {
		s := sack(blocks...)
		s.Ack, s.Window = rseq(ack), uint16(win)
		return s
	}
	send(t, c, data(1000, 100))
	expect(t, recv(t, c), want(1, testBuf, 1001, 1101))
	send(t, c, data(2000, 100))
	expect(t, recv(t, c), want(1, testBuf, 2001, 2101, 1001, 1101))
	send(t, c, data(1100, 100)) // extends the first block, which is now the newest
	expect(t, recv(t, c), want(1, testBuf, 1001, 1201, 2001, 2101))
	// RFC 5681 §4.2: one ACK for each out-of-order segment, even in a
	// batch; RFC 2018 §4: the newest block first, then the blocks most
	// recently reported. Five blocks held: four fit without timestamps,
	// and the oldest report (2001) is the one left out.
	send(t, c, data(3000, 50))
	send(t, c, data(4000, 50))
	send(t, c, data(5000, 50))
	expect(t, recv(t, c),
		want(1, testBuf, 3001, 3051, 1001, 1201, 2001, 2101),
		want(1, testBuf, 4001, 4051, 3001, 3051, 1001, 1201, 2001, 2101),
		want(1, testBuf, 5001, 5051, 4001, 4051, 3001, 3051, 1001, 1201))
	if c.Readable() != 0 {
		t.Fatalf("out-of-order text readable: %d", c.Readable())
	}
	// Fills the hole up to 1200: no block holds the newest segment now,
	// so the most recently reported lead, and 2001 comes back last.
	send(t, c, data(0, 1000))
	expect(t, recv(t, c), want(1201, testBuf-1200, 5001, 5051, 4001, 4051, 3001, 3051, 2001, 2101))
	buf := make([]byte, 8000)
	if n, _ := c.Read(buf); !bytes.Equal(buf[:n], pattern(0, 1200)) {
		t.Fatalf("read %d", n)
	}
	send(t, c, data(1200, 3850))
	// 1200 octets were read, less than the 1460 that would move the
	// right edge (MUST-39): the window is what is left up to it. The
	// segment repeated text held out of order: RFC 2883 §4 reports the
	// first such part in a D-SACK, below the cumulative ACK.
	expect(t, recv(t, c), want(5051, testBuf-5050, 2001, 2101))
	if n, _ := c.Read(buf); !bytes.Equal(buf[:n], pattern(1200, 3850)) {
		t.Fatalf("read %d", n)
	}
}

// Without SACK the duplicate ACK carries no options (MAY-13).
func TestOutOfOrderDuplicateAckWithoutSACK(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.seq(rseq(101)).data(pattern(100, 10)))
	expect(t, recv(t, c), fromUs)
}

// MUST-58 and MUST-59: segments that arrive together are all processed
// before one ACK covers them.
func TestAckAggregation(t *testing.T) {
	c := connEstablished(t)
	for i := 0; i < 3; i++ {
		send(t, c, fromPeer.seq(rseq(1+100*i)).data(pattern(100*i, 100)))
	}
	expect(t, recv(t, c), fromUs.ack(rseq(301)).win(testBuf-300))
}

// MUST-39 (RFC 9293 §3.8.6.2.2): the receiver moves the window's right
// edge only by at least min(RCV.BUFF/2, MSS), and SHLD-14: never left.
func TestReceiveWindowSWSAvoidance(t *testing.T) {
	c := smallRecv(t) // 3000-byte buffer, full: step is min(1500, 1460)
	buf := make([]byte, 3000)
	c.Read(buf[:1000])
	for _, s := range recv(t, c) {
		if s.Window != 0 {
			t.Fatalf("window opened by 1000 < 1460 octets: %s", fmtSeg(&s))
		}
	}
	c.Read(buf[:459])
	for _, s := range recv(t, c) {
		if s.Window != 0 {
			t.Fatalf("window opened by 1459 < 1460 octets: %s", fmtSeg(&s))
		}
	}
	c.Read(buf[:1])
	expect(t, recv(t, c), fromUs.ack(rseq(3001)).win(1460))
	// The peer sends 1000 into the 1460; a read of 100 frees too little
	// to move the edge, so the offered window shrinks from the left only.
	send(t, c, fromPeer.seq(rseq(3001)).data(pattern(3000, 1000)))
	expect(t, recv(t, c), fromUs.ack(rseq(4001)).win(460))
}

// SHLD-14: across arrivals and reads of every size, ACK+WND never moves
// left.
func TestWindowRightEdgeNeverMovesLeft(t *testing.T) {
	cfg := testConfig()
	cfg.RecvBuffer = 5000
	c := connEstablishedWith(t, cfg)
	edge := rseq(1 + 5000)
	next := 0
	buf := make([]byte, 5000)
	for i := 0; i < 200; i++ {
		n := (i*37)%1460 + 1
		send(t, c, fromPeer.seq(rseq(1+next)).data(pattern(next, n)))
		next = int(rseq(0).Size(c.rcvNxt)) - 1
		if i%3 == 0 {
			c.Read(buf[:(i*53)%2000])
		}
		for _, s := range recv(t, c) {
			e := s.Ack.Add(seqnum.Size(s.Window))
			if e.LessThan(edge) {
				t.Fatalf("step %d: right edge moved left from %v to %v", i, edge, e)
			}
			edge = e
		}
	}
}

// MUST-36, SHLD-29, SHLD-30, MUST-37 (RFC 9293 §3.8.6.1): with data
// waiting on a zero window the sender probes, the first probe one RTO
// after the window closed, then with exponential backoff; it keeps the
// connection as long as the receiver answers, however many probes it
// takes; and it resumes when the window opens.
func TestZeroWindowProbe(t *testing.T) {
	c := connEstablishedWith(t, rfc6298Config()) // RTO 1 s from a 100 ms sample
	c.Write([]byte("first"))
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).payload("first"))
	c.now = 100 * time.Millisecond
	send(t, c, fromPeer.ack(c.lseq(6)).win(0))
	if _, rto := c.RTT(); rto != time.Second {
		t.Fatalf("rto %v", rto)
	}
	c.Write(pattern(0, 50))
	expect(t, recv(t, c)) // the window is closed
	if d := c.Deadline(); d != 1100*time.Millisecond {
		t.Fatalf("first probe due at %v, want 1.1s (one RTO)", d)
	}
	probe := Segment{Seq: c.lseq(6), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(0, 1)}
	c.now = 1100*time.Millisecond - 1
	expect(t, recv(t, c))
	c.now = 1100 * time.Millisecond
	expect(t, recv(t, c), probe)
	// The receiver keeps its window shut, answering every probe. The
	// probes back off exponentially (2 s after the first, then 4 s, ...)
	// up to MaxRTO and never give up.
	gap := 2 * time.Second
	for i := 0; i < 2*c.env.Config.Retries; i++ {
		send(t, c, fromPeer.ack(c.lseq(6)).win(0))
		expect(t, recv(t, c))
		next := c.Deadline()
		if next-c.now != gap {
			t.Fatalf("probe %d: next in %v, want %v", i+1, next-c.now, gap)
		}
		c.now = next
		expect(t, recv(t, c), probe)
		gap = min(2*gap, c.env.Config.MaxRTO)
	}
	expectState(t, c, Established)
	// The window opens, taking the probe's octet: the rest follows.
	send(t, c, fromPeer.ack(c.lseq(7)))
	expect(t, recv(t, c), fromUs.seq(c.lseq(7)).flags(flagACK|flagPSH).data(pattern(1, 49)))
}

// RFC 9293 §3.8.6.1: a window update that is lost while the sender sits
// behind a zero window is recovered by the sender's probes, whose ACKs
// carry the open window.
func TestZeroWindowProbeRecoversLostUpdate(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.win(0))
	c.Write(pattern(0, 3000))
	expect(t, recv(t, c))
	c.now = c.Deadline()
	expect(t, recv(t, c), fromUs.data(pattern(0, 1)))
	// (The receiver's window update was lost.) The probe's ACK opens it.
	send(t, c, fromPeer.ack(c.lseq(2)))
	got := drain(t, c, c.lseq(2), remoteWin)
	if !bytes.Equal(got, pattern(1, 2999)) {
		t.Fatalf("peer got %d octets", len(got))
	}
}

// MUST-34: a peer that shrinks its window (moves the right edge left) is
// tolerated: nothing new goes beyond the new edge, retransmission goes on
// from SND.UNA, and the transfer completes when the window reopens.
func TestShrinkingWindowRobust(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 3000))
	segs := recv(t, c)
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	c.now = 50 * time.Millisecond
	send(t, c, fromPeer.ack(c.lseq(1461)).win(0))
	expect(t, recv(t, c))
	c.Write(pattern(3000, 1000))
	expect(t, recv(t, c))
	c.now = c.Deadline()
	for _, s := range recv(t, c) {
		if s.Seq != c.lseq(1461) || len(s.Payload) > 1 {
			t.Fatalf("sent past the shrunken window: %s", fmtSeg(&s))
		}
	}
	got := drain(t, c, c.lseq(1461), remoteWin)
	if !bytes.Equal(got, pattern(1460, 2540)) {
		t.Fatalf("peer got %d octets", len(got))
	}
}

// MUST-38 (RFC 9293 §3.8.6.2.1): the sender does not send a segment
// smaller than the MSS unless it holds all the queued data or is at least
// half the largest window the peer ever offered; the persist timer's
// override lets it send what fits.
func TestSenderSWSAvoidance(t *testing.T) {
	c := connEstablished(t) // MAX(SND.WND) = 60000
	send(t, c, fromPeer.win(1000))
	c.Write(pattern(0, 500))
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).data(pattern(0, 500)))
	send(t, c, fromPeer.ack(c.lseq(501)).win(1000))
	c.Write(pattern(500, 3000))
	expect(t, recv(t, c)) // 1000 < MSS, < 3000 queued, < 60000/2
	c.now = c.Deadline()
	expect(t, recv(t, c), fromUs.seq(c.lseq(501)).data(pattern(500, 1000)))
	// A window of half the maximum is worth a segment at once.
	send(t, c, fromPeer.ack(c.lseq(1501)).win(30000))
	segs := recv(t, c)
	if len(segs) != 2 || len(segs[0].Payload) != testMSS || len(segs[1].Payload) != 540 {
		t.Fatalf("segments %d", len(segs))
	}
}

// SHLD-7 and MUST-17 (RFC 9293 §3.7.4): with Nagle on, a small segment
// waits while data is unacknowledged; full segments go at once; the
// application can turn it off, which is the default here (like Go's
// net.TCPConn, TCP_NODELAY).
func TestNagle(t *testing.T) {
	c := connEstablished(t)
	c.SetNoDelay(false)
	c.Write([]byte("a"))
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).payload("a"))
	c.Write([]byte("b"))
	c.Write([]byte("c"))
	expect(t, recv(t, c))
	c.Write(pattern(0, testMSS))
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).data(append([]byte("bc"), pattern(0, testMSS-2)...)))
	send(t, c, fromPeer.ack(c.lseq(2)))
	expect(t, recv(t, c)) // 2 octets left, 1460 still in flight
	send(t, c, fromPeer.ack(c.lseq(2+testMSS)))
	expect(t, recv(t, c), fromUs.seq(c.lseq(2+testMSS)).flags(flagACK|flagPSH).data(pattern(testMSS-2, 2)))
}

func TestNoDelaySendsSmallSegmentsAtOnce(t *testing.T) {
	c := connEstablished(t)
	c.Write([]byte("a"))
	recv(t, c)
	c.Write([]byte("b"))
	expect(t, recv(t, c), fromUs.seq(c.lseq(2)).flags(flagACK|flagPSH).payload("b"))
}

// SHLD-28 and MUST-61: data goes in MSS-sized segments when it can; the
// last segment of what is queued carries PSH.
func TestFullSegmentsAndPushOnLast(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 3000))
	expect(t, recv(t, c),
		Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(0, 1460)},
		Segment{Seq: c.lseq(1461), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(1460, 1460)},
		Segment{Seq: c.lseq(2921), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: pattern(2920, 80)})
}

// The peer's receive window and the congestion window both bound what is
// in flight (RFC 9293 §3.8.6, RFC 5681 §3.1: IW = 10 segments, RFC 6928).
func TestSendBoundedByWindows(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.win(4000))
	c.Write(pattern(0, 60000))
	var n int
	for _, s := range recv(t, c) {
		n += len(s.Payload)
	}
	if n != 4000-4000%testMSS+4000%testMSS && n != 2*testMSS {
		t.Fatalf("sent %d octets into a 4000-octet window", n)
	}
	c2 := connEstablished(t)
	c2.Write(pattern(0, 60000))
	n = 0
	for _, s := range recv(t, c2) {
		n += len(s.Payload)
	}
	if n != 10*testMSS {
		t.Fatalf("initial flight %d, want 10 segments", n)
	}
}

// SHLD-2: a RST may carry data; it is still a reset.
func TestRstWithDataResets(t *testing.T) {
	c := connEstablished(t)
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST, Payload: []byte("diagnostic")})
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionReset) {
		t.Fatalf("err %v", c.Err())
	}
}

// MUST-1: windows are unsigned: a window field of 0xffff is 65535.
func TestWindowIsUnsigned(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.win(0xffff))
	if c.sndWnd != 65535 {
		t.Fatalf("SND.WND %d", c.sndWnd)
	}
}

// Reading: in-order text, then io.EOF after the FIN; the receive window
// is handed back as the application reads (RFC 9293 §3.8.6.2.2).
func TestReadThenEOF(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.flags(flagACK|flagFIN).payload("bye"))
	if ev := c.TakeEvents(); ev&EvReadable == 0 {
		t.Fatalf("events %b", ev)
	}
	buf := make([]byte, 2)
	if n, err := c.Read(buf); n != 2 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := c.Read(buf); err == nil || err.Error() != "EOF" {
		t.Fatalf("err %v", err)
	}
}

// MUST-5 and MUST-65: options may arrive on any segment; an MSS or window
// scale option on a non-SYN segment means nothing and changes nothing,
// and the segment is processed as usual.
func TestSynOnlyOptionsOnDataSegmentIgnored(t *testing.T) {
	c := connEstablished(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 1000, Payload: []byte("x"),
		Options: wire.Options{HasMSS: true, MSS: 100, HasWScale: true, WScale: 14, SACKPermitted: true}})
	expect(t, recv(t, c), fromUs.ack(rseq(2)).win(testBuf-1))
	if n := c.Negotiated(); n.SendMSS != remoteMSS || n.SendShift != 0 || n.SACK || c.sndWnd != 1000 {
		t.Fatalf("negotiated %+v SND.WND %d", n, c.sndWnd)
	}
}

// MUST-30 to MUST-33 are not implemented: the urgent pointer is ignored
// and urgent data is delivered inline, in sequence, like any other data
// (what RFC 6093 recommends applications rely on at most).
func TestUrgentDataDeliveredInline(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.flags(flagACK|wire.FlagURG).payload("!abc"))
	expect(t, recv(t, c), fromUs.ack(rseq(5)).win(testBuf-4))
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); string(buf[:n]) != "!abc" {
		t.Fatalf("read %q", buf[:n])
	}
}

// RFC 9293 §3.10.2 (SEND in SYN-SENT and SYN-RECEIVED): data written
// before the handshake completes is queued and sent once ESTABLISHED.
func TestWriteBeforeEstablishedQueued(t *testing.T) {
	c := connSynSent(t)
	if n, err := c.Write([]byte("early")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	expect(t, recv(t, c))
	send(t, c, peerSYNACK)
	expect(t, recv(t, c), fromUs.flags(flagACK|flagPSH).payload("early"))

	p := connSynReceivedPassive(t)
	p.Write([]byte("hello"))
	expect(t, recv(t, p))
	send(t, p, fromPeer.ack(p.lseq(1)))
	expect(t, recv(t, p), fromUs.seq(p.lseq(1)).flags(flagACK|flagPSH).payload("hello"))
}

// Text at RCV.NXT is accepted even when the out-of-order block list is
// full: it needs no new block (RFC 9293 §3.10.7.4).
func TestInOrderTextAcceptedWithFullReassembly(t *testing.T) {
	c := connEstablished(t)
	for k := 0; k < maxOOORanges; k++ {
		off := 2000 + 200*k
		send(t, c, fromPeer.seq(rseq(off)).data(pattern(off-1, 100)))
	}
	recv(t, c)
	send(t, c, fromPeer.data(pattern(0, 1000)))
	recv(t, c)
	if c.rcvNxt != rseq(1001) || c.Readable() != 1000 {
		t.Fatalf("rcvNxt %s, readable %d: in-order text dropped", fmtSeq(c.rcvNxt), c.Readable())
	}
}
