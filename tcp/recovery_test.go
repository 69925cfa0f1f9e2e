package tcp

// Loss recovery: RFC 6675 SACK-based recovery with PRR (RFC 6937),
// RACK-TLP (RFC 8985), D-SACK (RFC 2883) undo, F-RTO (RFC 5682), limited
// transmit (RFC 3042), and NewReno (RFC 6582) without SACK.

import (
	"testing"
	"time"
)

// connSACK is connEstablished with SACK agreed and no timestamps, so our
// segments carry no options and the peer's ACKs only SACK blocks.
func connSACK(t testing.TB) *testConn { return connSACKWith(t, testConfig()) }

func connSACKWith(t testing.TB, cfg Config) *testConn {
	c := connEstablishedWith(t, cfg)
	c.sackOK = true
	return c
}

// peerAck is the peer's ACK of our octets up to offset ack, with SACK
// blocks given as pairs of offsets (all relative to our first data octet).
func peerAck(c *testConn, ack int, blocks ...int) Segment {
	s := Segment{Seq: rseq(1), Ack: c.lseq(1 + ack), Flags: flagACK, Window: remoteWin}
	for i := 0; i+1 < len(blocks); i += 2 {
		s.Options.SACK[s.Options.NumSACK].Start = uint32(c.lseq(1 + blocks[i]))
		s.Options.SACK[s.Options.NumSACK].End = uint32(c.lseq(1 + blocks[i+1]))
		s.Options.NumSACK++
	}
	return s
}

// dataSeg is our full-sized segment number i (from 0).
func dataSeg(c *testConn, i int) Segment {
	return Segment{Seq: c.lseq(1 + i*testMSS), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(i*testMSS, testMSS)}
}

// segIndexes returns which of our segments segs are, by number.
func segIndexes(c *testConn, segs []Segment) []int {
	var ix []int
	for _, s := range segs {
		ix = append(ix, int(c.lseq(1).Size(s.Seq))/testMSS)
	}
	return ix
}

// bulkSACK writes 40 segments to a SACK connection and takes the initial
// window of ten.
func bulkSACK(t *testing.T) *testConn { return bulkSACKWith(t, testConfig()) }

func bulkSACKWith(t *testing.T, cfg Config) *testConn {
	c := connSACKWith(t, cfg)
	c.Write(pattern(0, 40*testMSS))
	if got := segIndexes(c, recv(t, c)); len(got) != 10 {
		t.Fatalf("initial window %v", got)
	}
	c.now = 100 * time.Millisecond
	return c
}

// RFC 6675 §5: with segment 1 lost, the ACKs for 2, 3 and 4 carry SACK
// blocks; the third SACKed segment above the hole makes it lost (IsLost),
// recovery starts with ssthresh = FlightSize/2, segment 1 alone is
// retransmitted, PRR (RFC 6937) lets new data go at half the delivery
// rate, and the ACK of the recovery point ends recovery with cwnd =
// ssthresh: no collapse to what is in flight.
func TestSACKRecoveryRepairsOneHole(t *testing.T) {
	c := bulkSACKWith(t, newRenoConfig()) // NewReno's ssthresh = FlightSize/2
	send(t, c, peerAck(c, 1*testMSS))     // segment 0 arrived
	recv(t, c)
	var flight uint32
	for k := 2; k <= 4; k++ {
		flight = c.flight()
		send(t, c, peerAck(c, testMSS, 2*testMSS, (k+1)*testMSS))
		segs := recv(t, c)
		for j, i := range segIndexes(c, segs) {
			if i < 10 && !(k == 4 && j == 0) {
				t.Fatalf("after %d SACKed segments, sent segment %d", k-1, i)
			}
		}
		if k < 4 && c.rec.state != recOpen {
			t.Fatalf("recovery after %d SACKed segments", k-1)
		}
		if k == 4 {
			if c.rec.state != recFast {
				t.Fatal("no recovery after three SACKed segments")
			}
			if ix := segIndexes(c, segs); len(ix) == 0 || ix[0] != 1 {
				t.Fatalf("sent %v, want segment 1 retransmitted first", ix)
			}
			expect(t, segs[:1], dataSeg(c, 1))
		}
	}
	if want := max(flight/2, 2*testMSS); c.cong().Ssthresh() != want {
		t.Fatalf("ssthresh %d, want FlightSize/2 = %d", c.cong().Ssthresh(), want)
	}
	// Ten more segments SACKed one by one: PRR sends about one for two.
	high := c.sndMax
	newSegs := 0
	for k := 5; k < 15; k++ {
		send(t, c, peerAck(c, testMSS, 2*testMSS, (k+1)*testMSS))
		for _, s := range recv(t, c) {
			if s.Seq == c.lseq(1+testMSS) {
				t.Fatal("segment 1 retransmitted twice")
			}
			newSegs++
		}
	}
	if newSegs < 4 || newSegs > 6 {
		t.Fatalf("%d new segments for 10 delivered in recovery, want about 5 (PRR)", newSegs)
	}
	if c.env.Stats.RetransSegs != 1 {
		t.Fatalf("RetransSegs %d", c.env.Stats.RetransSegs)
	}
	// The retransmission arrives: everything up to the recovery point.
	send(t, c, peerAck(c, int(c.lseq(1).Size(high))))
	if c.rec.state != recOpen || c.Cwnd() != c.cong().Ssthresh() {
		t.Fatalf("after recovery: state %v cwnd %d ssthresh %d", c.rec.state, c.Cwnd(), c.cong().Ssthresh())
	}
}

// Issue 11 item 5 and RFC 6675 §5: with SACK in use, duplicate ACKs that
// carry no new SACK information (forged, or repeated) declare no loss:
// no retransmission, no recovery, no change to cwnd.
func TestSACKDupAcksWithoutNewInformationIgnored(t *testing.T) {
	c := bulkSACK(t)
	cwnd := c.Cwnd()
	for i := 0; i < 20; i++ {
		send(t, c, peerAck(c, 0))
		expect(t, recv(t, c))
	}
	// One real SACK block, repeated twenty times: it frees one
	// segment's worth of pipe once, and says nothing new after.
	send(t, c, peerAck(c, 0, 5*testMSS, 6*testMSS))
	first := recv(t, c)
	for i := 0; i < 20; i++ {
		send(t, c, peerAck(c, 0, 5*testMSS, 6*testMSS))
		if segs := recv(t, c); len(segs) != 0 {
			t.Fatalf("repeat %d sent %v", i, segIndexes(c, segs))
		}
	}
	for _, i := range segIndexes(c, first) {
		if i < 10 {
			t.Fatalf("retransmitted segment %d", i)
		}
	}
	if c.rec.state != recOpen || c.env.Stats.RetransSegs != 0 || c.Cwnd() < cwnd {
		t.Fatalf("state %v retrans %d cwnd %d (was %d)", c.rec.state, c.env.Stats.RetransSegs, c.Cwnd(), cwnd)
	}
}

// Issue 12's first failure: ACKs whose window changed are not RFC 5681
// duplicates, yet with SACK their blocks still drive loss detection.
func TestSACKLossDetectedDespiteWindowUpdates(t *testing.T) {
	c := bulkSACK(t)
	for k := 1; k <= 3; k++ {
		a := peerAck(c, 0, 1*testMSS, (k+1)*testMSS)
		a.Window = uint16(remoteWin - 1000*k)
		send(t, c, a)
		segs := recv(t, c)
		if k == 3 {
			if ix := segIndexes(c, segs); len(ix) == 0 || ix[0] != 0 {
				t.Fatalf("sent %v, want segment 0 retransmitted", ix)
			}
		}
	}
}

// RFC 8985 §6.2: a retransmission that is lost again is found by RACK
// when data sent after it is SACKed one RACK.rtt later, and sent again
// without waiting for a timeout (issue 12's third failure, for SACK).
func TestRACKDetectsLostRetransmission(t *testing.T) {
	c := bulkSACK(t)
	for k := 1; k <= 3; k++ {
		send(t, c, peerAck(c, 0, 1*testMSS, (k+1)*testMSS))
		recv(t, c)
	}
	if c.env.Stats.RetransSegs != 1 {
		t.Fatalf("no fast retransmit: %d", c.env.Stats.RetransSegs)
	}
	// More SACKs: new data goes out after the retransmission.
	var after []int
	for k := 4; k <= 9; k++ {
		send(t, c, peerAck(c, 0, 1*testMSS, (k+1)*testMSS))
		after = append(after, segIndexes(c, recv(t, c))...)
	}
	if len(after) == 0 {
		t.Fatal("nothing new sent in recovery")
	}
	// One round trip later the new data is SACKed, segment 0 not.
	c.now += 100 * time.Millisecond
	last := after[len(after)-1]
	send(t, c, peerAck(c, 0, 1*testMSS, (last+1)*testMSS))
	segs := recv(t, c)
	if ix := segIndexes(c, segs); len(ix) == 0 || ix[0] != 0 {
		t.Fatalf("sent %v, want segment 0 again", ix)
	}
	if c.rec.rtos != 0 || c.env.Stats.RetransSegs != 2 {
		t.Fatalf("rtos %d retrans %d", c.rec.rtos, c.env.Stats.RetransSegs)
	}
}

// rttConn is a SACK connection whose SRTT is 100 ms.
func rttConn(t *testing.T) *testConn {
	c := connSACKWith(t, rfc6298Config()) // RTO 1 s: later than every PTO here
	c.Write([]byte("x"))
	recv(t, c)
	c.now = 100 * time.Millisecond
	send(t, c, peerAck(c, 1))
	if srtt, _ := c.RTT(); srtt != 100*time.Millisecond {
		t.Fatalf("srtt %v", srtt)
	}
	return c
}

// RFC 8985 §7.2 and §7.3: with the last segments of a burst lost and
// nothing new to send, a probe retransmits the last segment after PTO =
// 2*SRTT, long before the RTO; its ACK (no D-SACK) shows a loss was
// repaired, which still reduces the window (§7.4.2).
func TestTLPRetransmitsLastSegment(t *testing.T) {
	c := rttConn(t)
	c.Write(pattern(1, 3*testMSS))
	sent := c.now
	if n := len(recv(t, c)); n != 3 {
		t.Fatalf("%d segments", n)
	}
	_, rto := c.RTT()
	if d := c.Deadline(); d != sent+200*time.Millisecond || d >= sent+rto {
		t.Fatalf("probe due at %v, want %v (2*SRTT), RTO at %v", d, sent+200*time.Millisecond, sent+rto)
	}
	c.now = c.Deadline()
	last := Segment{Seq: c.lseq(2 + 2*testMSS), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: pattern(1+2*testMSS, testMSS)}
	expect(t, recv(t, c), last)
	if c.tlp.probes != 1 || c.Deadline() != c.now+c.rto {
		t.Fatalf("probes %d, deadline %v: the RTO is re-armed after a probe", c.tlp.probes, c.Deadline())
	}
	ssthresh := c.cong().Ssthresh()
	// Segments 0 and 1 arrived; 2 was lost and the probe repaired it.
	c.now += 100 * time.Millisecond
	send(t, c, peerAck(c, 1+3*testMSS))
	if c.cong().Ssthresh() == ssthresh {
		t.Fatal("no congestion response to a loss the probe repaired")
	}
}

// RFC 8985 §7.2: with one segment in flight the probe waits for the
// peer's delayed ACK too (PTO = 2*SRTT + WCDelAckT); and §7.3: with new
// data and room in the peer's window, the probe is a new segment.
func TestTLPSendsNewDataWhenAvailable(t *testing.T) {
	c := rttConn(t)
	c.Write(pattern(1, testMSS))
	sent := c.now
	recv(t, c)
	if d := c.Deadline(); d != sent+200*time.Millisecond+wcDelAckT {
		t.Fatalf("probe due at %v, want 2*SRTT + WCDelAckT", d-sent)
	}
	// cwnd-limited: new data waits, and is what the probe sends.
	c.cong().SetCwnd(testMSS)
	c.Write(pattern(1+testMSS, testMSS))
	expect(t, recv(t, c))
	c.now = c.Deadline()
	expect(t, recv(t, c), Segment{Seq: c.lseq(2 + testMSS), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: pattern(1+testMSS, testMSS)})
	if c.env.Stats.RetransSegs != 0 {
		t.Fatal("the probe retransmitted instead of sending new data")
	}
}

// RFC 2883 §5 and RFC 8985 §9.3: a retransmission answered by a D-SACK
// was not needed: when every retransmission of the recovery is D-SACKed,
// the window reduction is undone.
func TestDSACKUndoesSpuriousRecovery(t *testing.T) {
	c := bulkSACK(t)
	cwnd, ssthresh := c.Cwnd(), c.cong().Ssthresh()
	for k := 1; k <= 3; k++ {
		send(t, c, peerAck(c, 0, 1*testMSS, (k+1)*testMSS))
		recv(t, c)
	}
	if c.rec.state != recFast || c.cong().Ssthresh() == ssthresh {
		t.Fatal("no recovery")
	}
	// Segment 0 was only delayed: it arrives, then the retransmission,
	// which the peer reports as a duplicate (D-SACK below the ACK).
	c.now += 50 * time.Millisecond
	send(t, c, peerAck(c, 4*testMSS))
	send(t, c, peerAck(c, 4*testMSS, 0, testMSS))
	if c.rec.spuriousRecoveries != 1 || c.rec.state != recOpen {
		t.Fatalf("spurious %d state %v", c.rec.spuriousRecoveries, c.rec.state)
	}
	if c.cong().Ssthresh() != ssthresh || c.Cwnd() < cwnd {
		t.Fatalf("after undo: cwnd %d ssthresh %d, want at least %d and %d", c.Cwnd(), c.cong().Ssthresh(), cwnd, ssthresh)
	}
	if !c.rack.reorderingSeen {
		t.Fatal("a D-SACK did not mark the path as reordering (RFC 8985 §6.2)")
	}
}

// A D-SACK for data not retransmitted in this episode (a duplicate the
// network made) undoes nothing.
func TestDSACKForUnretransmittedDataUndoesNothing(t *testing.T) {
	c := bulkSACK(t)
	for k := 1; k <= 3; k++ {
		send(t, c, peerAck(c, 0, 1*testMSS, (k+1)*testMSS))
		recv(t, c)
	}
	ssthresh := c.cong().Ssthresh()
	send(t, c, peerAck(c, 0, 2*testMSS, 3*testMSS, 1*testMSS, 4*testMSS)) // D-SACK inside the second block
	if c.rec.spuriousRecoveries != 0 || c.cong().Ssthresh() != ssthresh {
		t.Fatal("undone by a D-SACK for data sent once")
	}
}

// RFC 3042: without SACK, the first and second duplicate ACKs each let
// one new segment go beyond cwnd; the third starts fast retransmit.
func TestLimitedTransmitWithoutSACK(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 20*testMSS))
	if n := len(recv(t, c)); n != 10 {
		t.Fatalf("%d segments", n)
	}
	dup := Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin}
	send(t, c, dup)
	expect(t, recv(t, c), dataSeg(c, 10))
	send(t, c, dup)
	expect(t, recv(t, c), dataSeg(c, 11))
	send(t, c, dup)
	segs := recv(t, c)
	if ix := segIndexes(c, segs); len(ix) == 0 || ix[0] != 0 {
		t.Fatalf("third duplicate sent %v, want the fast retransmit of 0", ix)
	}
	if c.Cwnd() != c.cong().Ssthresh()+3*testMSS {
		t.Fatalf("cwnd %d: limited transmit must not change cwnd", c.Cwnd())
	}
}

// RFC 3042 §2 with SACK: the SACKed segment leaves the pipe (RFC 6675),
// which lets one new segment out per duplicate ACK the same way.
func TestLimitedTransmitWithSACK(t *testing.T) {
	c := bulkSACK(t)
	c.cong().SetCwnd(10 * testMSS)
	send(t, c, peerAck(c, 0, testMSS, 2*testMSS))
	expect(t, recv(t, c), dataSeg(c, 10))
	send(t, c, peerAck(c, 0, testMSS, 3*testMSS))
	expect(t, recv(t, c), dataSeg(c, 11))
}

// RFC 6582 §3.2 step 3 (option 2) and issue 12's second failure: the full
// ACK ends NewReno recovery with cwnd = ssthresh, not min(ssthresh,
// FlightSize + SMSS) with a flight near zero.
func TestNewRenoFullAckKeepsSsthresh(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 10*testMSS))
	recv(t, c)
	dup := Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin}
	for i := 0; i < 3; i++ {
		send(t, c, dup)
	}
	recv(t, c)
	send(t, c, Segment{Seq: rseq(1), Ack: c.sndMax, Flags: flagACK, Window: remoteWin})
	if c.flight() != 0 || c.Cwnd() != c.cong().Ssthresh() || c.Cwnd() <= testMSS {
		t.Fatalf("flight %d cwnd %d ssthresh %d", c.flight(), c.Cwnd(), c.cong().Ssthresh())
	}
}

// Issue 12's third failure without SACK: after a timeout everything is
// resent in order, and duplicate ACKs at a segment already resent mean
// the copy was lost too: it is resent at once, not after a doubled RTO.
func TestLostRetransmissionAfterRTOWithoutSACK(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 10*testMSS))
	recv(t, c)
	c.now = c.Deadline()
	expect(t, recv(t, c), dataSeg(c, 0))
	c.now += 10 * time.Millisecond
	// The retransmission of 0 arrived; cwnd is 2 segments now.
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + testMSS), Flags: flagACK, Window: remoteWin})
	if ix := segIndexes(c, recv(t, c)); len(ix) == 0 || ix[0] != 1 {
		t.Fatalf("sent %v, want 1 and 2 resent", ix)
	}
	// Segment 1's copy is lost; later ones arrive: three duplicates.
	dup := Segment{Seq: rseq(1), Ack: c.lseq(1 + testMSS), Flags: flagACK, Window: remoteWin}
	for i := 0; i < 3; i++ {
		send(t, c, dup)
	}
	segs := recv(t, c)
	if ix := segIndexes(c, segs); len(ix) == 0 || ix[0] != 1 {
		t.Fatalf("sent %v, want segment 1 resent again", ix)
	}
	if c.rec.rtos != 1 {
		t.Fatalf("%d timeouts", c.rec.rtos)
	}
}

// RFC 5682 §2: after a timeout only the first segment is resent; when
// the next ACK advances the window two new segments go out, and when the
// one after advances it too, the timeout was spurious (the originals
// were only delayed): the window reduction is undone.
func TestFRTOUndoesSpuriousTimeout(t *testing.T) {
	c := connSACK(t)
	c.Write(pattern(0, 20*testMSS))
	recv(t, c)
	cwnd := c.Cwnd()
	c.now = c.Deadline()
	expect(t, recv(t, c), dataSeg(c, 0))
	if c.Cwnd() != testMSS || c.rec.frto != 1 {
		t.Fatalf("cwnd %d frto %d after the timeout", c.Cwnd(), c.rec.frto)
	}
	c.now += 10 * time.Millisecond
	send(t, c, peerAck(c, 2*testMSS)) // delayed originals 0 and 1
	expect(t, recv(t, c), dataSeg(c, 10), dataSeg(c, 11))
	send(t, c, peerAck(c, 4*testMSS))
	if c.rec.spuriousRTOs != 1 || c.rec.state != recOpen || c.Cwnd() < cwnd {
		t.Fatalf("spurious %d state %v cwnd %d (was %d)", c.rec.spuriousRTOs, c.rec.state, c.Cwnd(), cwnd)
	}
	if c.env.Stats.RetransSegs != 1 {
		t.Fatalf("RetransSegs %d: only the first segment should be resent", c.env.Stats.RetransSegs)
	}
}

// RFC 5682 §2 step 2a: a duplicate ACK after the timeout's retransmission
// means the timeout was real: the rest is resent as cwnd allows.
func TestFRTOGenuineTimeout(t *testing.T) {
	c := connSACK(t)
	c.Write(pattern(0, 20*testMSS))
	recv(t, c)
	c.now = c.Deadline()
	expect(t, recv(t, c), dataSeg(c, 0))
	c.now += 10 * time.Millisecond
	send(t, c, peerAck(c, 0, 2*testMSS, 3*testMSS)) // no progress
	if c.rec.frto != 0 || c.rec.state != recLoss {
		t.Fatalf("frto %d state %v", c.rec.frto, c.rec.state)
	}
	send(t, c, peerAck(c, testMSS, 2*testMSS, 3*testMSS))
	if ix := segIndexes(c, recv(t, c)); len(ix) != 2 || ix[0] != 1 || ix[1] != 3 {
		t.Fatalf("sent %v, want 1 and 3 (2 is SACKed)", ix)
	}
}

// RFC 2883 §4: text received twice is reported in a D-SACK, the first
// block of the next ACK: below the cumulative ACK for text already
// acknowledged (§4.1.1), followed by the containing block for text held
// out of order (§4.1.2). Each duplicate is reported once.
func TestDSACKSentForDuplicateText(t *testing.T) {
	c := connSACK(t)
	data := func(from, n int) Segment {
		return Segment{Seq: rseq(1 + from), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(from, n)}
	}
	want := func(ack, win int, blocks ...int) Segment {
		s := Segment{Seq: c.lseq(1), Ack: rseq(1 + ack), Flags: flagACK, Window: uint16(win)}
		for i := 0; i+1 < len(blocks); i += 2 {
			s.Options.SACK[s.Options.NumSACK].Start = uint32(rseq(1 + blocks[i]))
			s.Options.SACK[s.Options.NumSACK].End = uint32(rseq(1 + blocks[i+1]))
			s.Options.NumSACK++
		}
		return s
	}
	send(t, c, data(0, 100))
	expect(t, recv(t, c), want(100, testBuf-100))
	send(t, c, data(0, 100)) // all old
	expect(t, recv(t, c), want(100, testBuf-100, 0, 100))
	send(t, c, data(500, 100)) // out of order
	expect(t, recv(t, c), want(100, testBuf-100, 500, 600))
	send(t, c, data(500, 100)) // the same again
	expect(t, recv(t, c), want(100, testBuf-100, 500, 600, 500, 600))
	send(t, c, data(50, 100)) // half old, half new
	expect(t, recv(t, c), want(150, testBuf-150, 50, 100, 500, 600))
	c.ackNow = true
	expect(t, recv(t, c), want(150, testBuf-150, 500, 600))
}

// RFC 8985 §3.3 and §6.2: once the path has shown reordering, three
// SACKed segments above a hole no longer make it lost at once (DupThresh);
// RACK waits RACK.rtt + reo_wnd (min_RTT/4 here) from the hole's send
// time, on its reordering timer, and only then retransmits.
func TestReorderingSeenDefersToRACKTimer(t *testing.T) {
	c := bulkSACK(t) // ten segments sent at 0; now 100 ms
	send(t, c, peerAck(c, testMSS))
	recv(t, c)
	c.rack.reorderingSeen = true
	for k := 2; k <= 4; k++ {
		send(t, c, peerAck(c, testMSS, 2*testMSS, (k+1)*testMSS))
		for _, i := range segIndexes(c, recv(t, c)) {
			if i == 1 {
				t.Fatalf("hole retransmitted after %d SACKed segments despite reordering", k-1)
			}
		}
	}
	if c.rec.state != recOpen {
		t.Fatal("recovery entered before the reordering window passed")
	}
	if d := c.Deadline(); d != 125*time.Millisecond {
		t.Fatalf("RACK timer at %v, want 125ms (sent at 0 + RACK.rtt 100ms + reo_wnd 25ms)", d)
	}
	c.now = 125 * time.Millisecond
	if ix := segIndexes(c, recv(t, c)); len(ix) == 0 || ix[0] != 1 {
		t.Fatalf("sent %v at the RACK timer, want segment 1", ix)
	}
	if c.rec.state != recFast {
		t.Fatal("no recovery after the RACK timer")
	}
}

// RFC 8985 §7.4 with §6: when the probe's SACK lets RACK find the loss,
// fast recovery takes over the probe episode: one reduction, not a second
// one when the probe is acknowledged.
func TestTLPThenRecoveryReducesOnce(t *testing.T) {
	c := rttConn(t)
	c.Write(pattern(1, 4*testMSS))
	recv(t, c)
	c.now = c.Deadline()
	if segs := recv(t, c); len(segs) != 1 || c.tlp.probes != 1 {
		t.Fatalf("probe: %d segments, %d probes", len(segs), c.tlp.probes)
	}
	// Only the probe (the last segment) arrived: RACK deems the rest lost.
	c.now += 100 * time.Millisecond
	send(t, c, peerAck(c, 1, 1+3*testMSS, 1+4*testMSS))
	if c.rec.state != recFast {
		t.Fatal("no recovery from the probe's SACK")
	}
	ssthresh := c.cong().Ssthresh()
	if ix := segIndexes(c, recv(t, c)); len(ix) == 0 {
		t.Fatal("nothing retransmitted")
	}
	c.now += 100 * time.Millisecond
	send(t, c, peerAck(c, 1+4*testMSS))
	if c.rec.state != recOpen || c.cong().Ssthresh() != ssthresh || c.env.Stats.FastRecoveries != 1 {
		t.Fatalf("state %v ssthresh %d (was %d) recoveries %d", c.rec.state, c.cong().Ssthresh(), ssthresh, c.env.Stats.FastRecoveries)
	}
}
