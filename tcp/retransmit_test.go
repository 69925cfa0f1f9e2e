package tcp

// Retransmission: RFC 9293 §3.8.1 and §3.8.3 (R1/R2, MUST-18 to MUST-23),
// RFC 6298 (RTO computation, backoff, Karn's algorithm) and RFC 5681
// (slow start, congestion avoidance, fast retransmit) with RFC 6582.

import (
	"errors"
	"testing"
	"time"
)

// MUST-22, MUST-23, RFC 6298 §2.1 and §5.5: the SYN is retransmitted on
// the explicit clock 1 s after it was sent, then after 2 s, 4 s, ... and
// after Config.SynRetries retransmissions the open fails with ETIMEDOUT.
func TestSynRetransmissionBackoff(t *testing.T) {
	c := connSynSent(t)
	syn := Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)}
	at := time.Duration(0)
	gap := time.Second
	for i := 0; i < c.env.Config.SynRetries; i++ {
		at += gap
		if d := c.Deadline(); d != at {
			t.Fatalf("retransmission %d due at %v, want %v", i+1, d, at)
		}
		c.now = at - 1
		expect(t, recv(t, c))
		c.now = at
		expect(t, recv(t, c), syn)
		gap *= 2
	}
	// MUST-23: the SYN is retried for at least 3 minutes: with the
	// default 7 retransmissions (the last at 127 s) and the RTO capped at
	// MaxRTO (120 s), the open gives up at 247 s.
	at += min(gap, c.env.Config.MaxRTO)
	if at != 247*time.Second || c.Deadline() != at {
		t.Fatalf("give up at %v (deadline %v), want 247s", at, c.Deadline())
	}
	c.now = at
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrTimedOut) {
		t.Fatalf("err %v", c.Err())
	}
	s := c.env.Stats
	if s.SynRetrans != 7 || s.Timeouts != 1 || s.AttemptFails != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// The SYN retry limit is the application's to set (MUST-21 for SYNs).
func TestSynRetriesConfigurable(t *testing.T) {
	cfg := testConfig()
	cfg.SynRetries = 2
	c := connSynSentWith(t, cfg)
	for _, at := range []time.Duration{time.Second, 3 * time.Second} {
		c.now = at
		if len(recv(t, c)) != 1 {
			t.Fatalf("no SYN at %v", at)
		}
	}
	c.now = 7 * time.Second
	expect(t, recv(t, c))
	if !errors.Is(c.Err(), ErrTimedOut) {
		t.Fatalf("err %v", c.Err())
	}
}

// One connection's limit (Linux's TCP_SYNCNT) overrides the stack's, even
// set after the first SYN went out.
func TestSynRetriesPerConnection(t *testing.T) {
	c := connSynSent(t)
	c.SetSynRetries(1)
	c.now = time.Second
	if len(recv(t, c)) != 1 {
		t.Fatal("no SYN retransmission at 1s")
	}
	c.now = 3 * time.Second
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrTimedOut) {
		t.Fatalf("err %v", c.Err())
	}
}

// The passive side retransmits its SYN-ACK on the same schedule and
// drops the half-open child after Config.SynAckRetries; the listener
// forgets it.
func TestSynAckRetransmissionAndLimit(t *testing.T) {
	c := connSynReceivedPassive(t)
	synAck := Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)}
	for _, at := range []time.Duration{1, 3, 7, 15, 31} {
		c.now = at*time.Second - 1
		expect(t, recv(t, c))
		c.now = at * time.Second
		expect(t, recv(t, c), synAck)
	}
	c.now = 63 * time.Second
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if h, r := c.l.Pending(); h != 0 || r != 0 {
		t.Fatalf("pending %d %d", h, r)
	}
	if c.env.Stats.SynAckRetrans != 5 {
		t.Fatalf("SynAckRetrans %d", c.env.Stats.SynAckRetrans)
	}
}

// RFC 6298 §5.7: when the SYN had to be retransmitted and no RTT sample
// exists, data transfer starts with RTO = 3 s; and by Karn's algorithm
// (MUST-18) the SYN-ACK that answers a retransmitted SYN gives no sample.
func TestRTOAfterRetransmittedSynIsThreeSeconds(t *testing.T) {
	c := connSynSent(t)
	c.now = time.Second
	recv(t, c)
	c.now = 1500 * time.Millisecond
	send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	if srtt, rto := c.RTT(); srtt != 0 || rto != 3*time.Second {
		t.Fatalf("srtt %v rto %v", srtt, rto)
	}
}

// RFC 6298 §2: the RTO from measurements. First sample R: SRTT = R,
// RTTVAR = R/2; then RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| and
// SRTT = 7/8 SRTT + 1/8 R'; RTO = SRTT + max(G, 4 RTTVAR), G = 1 ms,
// clamped to [MinRTO, MaxRTO]. Before any sample it is 1 s (§2.1).
func TestRTOComputationRFC6298(t *testing.T) {
	cfg := testConfig()
	cfg.MinRTO = time.Millisecond
	c := connSynSentWith(t, cfg)
	if _, rto := c.RTT(); rto != time.Second {
		t.Fatalf("initial RTO %v", rto)
	}
	c.now = 100 * time.Millisecond // the handshake: R = 100 ms
	send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	recv(t, c)
	check := func(srtt, rto time.Duration) {
		t.Helper()
		if s, r := c.RTT(); s != srtt || r != rto {
			t.Fatalf("srtt %v rto %v, want %v %v", s, r, srtt, rto)
		}
	}
	check(100*time.Millisecond, 300*time.Millisecond)
	sample := func(r time.Duration) {
		t.Helper()
		c.Write([]byte("x"))
		recv(t, c)
		c.now += r
		send(t, c, Segment{Seq: rseq(1), Ack: c.sndMax, Flags: flagACK, Window: remoteWin})
	}
	sample(200 * time.Millisecond) // RTTVAR = (150+100)/4, SRTT = (700+200)/8
	check(112500*time.Microsecond, 112500*time.Microsecond+4*62500*time.Microsecond)
	sample(50 * time.Millisecond) // RTTVAR = (187.5+62.5)/4, SRTT = (787.5+50)/8
	check(104687500*time.Nanosecond, 104687500*time.Nanosecond+4*62500*time.Microsecond)

	// G: a tiny RTT still leaves RTO >= SRTT + 1 ms.
	d := connEstablishedWith(t, cfg)
	d.Write([]byte("x"))
	recv(t, d)
	d.now = time.Microsecond
	send(t, d, Segment{Seq: rseq(1), Ack: d.lseq(2), Flags: flagACK, Window: remoteWin})
	if s, r := d.RTT(); s != time.Microsecond || r != time.Microsecond+time.Millisecond {
		t.Fatalf("srtt %v rto %v", s, r)
	}
	// MinRTO: default 200 ms (RFC 8961, as Linux), or RFC 6298 §2.4's
	// 1 s when configured.
	for _, m := range []struct {
		cfg Config
		rto time.Duration
	}{{testConfig(), 200 * time.Millisecond}, {rfc6298Config(), time.Second}} {
		e := connEstablishedWith(t, m.cfg)
		e.Write([]byte("x"))
		recv(t, e)
		e.now = 10 * time.Millisecond
		send(t, e, Segment{Seq: rseq(1), Ack: e.lseq(2), Flags: flagACK, Window: remoteWin})
		if s, r := e.RTT(); s != 10*time.Millisecond || r != m.rto {
			t.Fatalf("srtt %v rto %v, want MinRTO %v", s, r, m.rto)
		}
	}
}

// RFC 6298 §5 and Karn's algorithm (MUST-18): on expiry the earliest
// unacknowledged segment is retransmitted and the RTO doubles (up to
// MaxRTO); an ACK of retransmitted data gives no RTT sample and the
// backed-off RTO stays until a fresh sample.
func TestDataRTOKarnAndBackoff(t *testing.T) {
	c := connEstablishedWith(t, rfc6298Config())
	c.Write([]byte("hello"))
	seg := Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: []byte("hello")}
	expect(t, recv(t, c), seg)
	for _, at := range []time.Duration{time.Second, 3 * time.Second} {
		if c.Deadline() != at {
			t.Fatalf("deadline %v, want %v", c.Deadline(), at)
		}
		c.now = at
		expect(t, recv(t, c), seg)
	}
	c.now = 3500 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(6), Flags: flagACK, Window: remoteWin})
	if srtt, rto := c.RTT(); srtt != 0 || rto != 4*time.Second {
		t.Fatalf("after ACK of retransmitted data: srtt %v rto %v, want 0 and 4s", srtt, rto)
	}
	if c.Deadline() != Never {
		t.Fatalf("timer still running: %v", c.Deadline())
	}
	c.now = 4 * time.Second
	c.Write([]byte("again"))
	recv(t, c)
	if c.Deadline() != 8*time.Second {
		t.Fatalf("deadline %v: the backed-off RTO should apply", c.Deadline())
	}
	c.now = 4200 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(11), Flags: flagACK, Window: remoteWin})
	if srtt, rto := c.RTT(); srtt != 200*time.Millisecond || rto != time.Second {
		t.Fatalf("fresh sample: srtt %v rto %v", srtt, rto)
	}
	if c.env.Stats.RetransSegs != 2 {
		t.Fatalf("RetransSegs %d", c.env.Stats.RetransSegs)
	}
}

// RFC 6298 §2.5: the backed-off RTO stops at MaxRTO (at least 60 s).
func TestRTOBackoffCappedAtMaxRTO(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRTO = 60 * time.Second
	cfg.Retries = 20
	c := connEstablishedWith(t, cfg)
	c.Write([]byte("x"))
	recv(t, c)
	var gaps []time.Duration
	last := time.Duration(0)
	for i := 0; i < 9; i++ {
		c.now = c.Deadline()
		gaps = append(gaps, c.now-last)
		last = c.now
		if len(recv(t, c)) != 1 {
			t.Fatalf("no retransmission %d", i)
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		if gaps[i] != want[i]*time.Second {
			t.Fatalf("gaps %v", gaps)
		}
	}
}

// MUST-20 (R2) and MUST-21: after Config.Retries retransmissions of the
// same data the connection is closed with ETIMEDOUT.
func TestDataRetriesTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.Retries = 3
	c := connEstablishedWith(t, cfg)
	c.Write([]byte("lost"))
	recv(t, c)
	for _, at := range []time.Duration{1, 3, 7} {
		c.now = at * time.Second
		if len(recv(t, c)) != 1 {
			t.Fatalf("no retransmission at %vs", at)
		}
	}
	c.now = 15 * time.Second
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrTimedOut) || c.TakeEvents()&EvError == 0 {
		t.Fatalf("err %v", c.Err())
	}
	// An ACK of new data resets the count.
	c = connEstablishedWith(t, cfg)
	c.Write([]byte("ab"))
	recv(t, c)
	for _, at := range []time.Duration{1, 3, 7} {
		c.now = at * time.Second
		recv(t, c)
	}
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(2), Flags: flagACK, Window: remoteWin})
	for i := 0; i < 3; i++ {
		c.now = c.Deadline()
		if len(recv(t, c)) != 1 {
			t.Fatalf("retransmission %d", i)
		}
	}
	expectState(t, c, Established)
}

// RFC 5681 §3.2: the third duplicate ACK triggers a retransmission of the
// first unacknowledged segment before the RTO, with
// ssthresh = max(FlightSize/2, 2*SMSS) and cwnd = ssthresh + 3*SMSS; a
// full ACK ends recovery (RFC 6582).
func TestFastRetransmitOnThreeDupAcks(t *testing.T) {
	c := connEstablishedWith(t, newRenoConfig())
	c.Write(pattern(0, 5*testMSS))
	if n := len(recv(t, c)); n != 5 {
		t.Fatalf("%d segments", n)
	}
	c.now = 100 * time.Millisecond
	ack := func(n int) { send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + n), Flags: flagACK, Window: remoteWin}) }
	ack(testMSS) // segment 1 arrived; segment 2 was lost
	expect(t, recv(t, c))
	ack(testMSS) // segments 3, 4 and 5 arrive: three duplicates
	ack(testMSS)
	expect(t, recv(t, c))
	if c.rec.state == recFast {
		t.Fatal("recovery after two duplicates")
	}
	ack(testMSS)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1 + testMSS), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(testMSS, testMSS)})
	if c.cong().Ssthresh() != 2*testMSS || c.cong().Cwnd() != 2*testMSS+3*testMSS {
		t.Fatalf("ssthresh %d cwnd %d", c.cong().Ssthresh(), c.cong().Cwnd())
	}
	ack(5 * testMSS)
	if (c.rec.state == recFast) || c.cong().Cwnd() > c.cong().Ssthresh() {
		t.Fatalf("after full ACK: recovery %v cwnd %d ssthresh %d", (c.rec.state == recFast), c.cong().Cwnd(), c.cong().Ssthresh())
	}
	if c.env.Stats.RetransSegs != 1 {
		t.Fatalf("RetransSegs %d", c.env.Stats.RetransSegs)
	}
}

// RFC 5681 §2: an ACK that carries data or changes the window is not a
// duplicate ACK.
func TestDupAckDefinition(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 5*testMSS))
	recv(t, c)
	for i := 0; i < 3; i++ {
		send(t, c, Segment{Seq: rseq(1 + i), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: []byte("x")})
	}
	for i := 0; i < 3; i++ {
		send(t, c, Segment{Seq: rseq(4), Ack: c.lseq(1), Flags: flagACK, Window: uint16(remoteWin - 100*(i+1))})
	}
	for _, s := range recv(t, c) {
		if len(s.Payload) > 0 {
			t.Fatalf("retransmitted on non-duplicates: %s", fmtSeg(&s))
		}
	}
}

// NewReno (RFC 6582 §3.2): a partial ACK during recovery retransmits the
// next hole at once.
func TestNewRenoPartialAck(t *testing.T) {
	c := connEstablishedWith(t, newRenoConfig())
	c.Write(pattern(0, 6*testMSS))
	recv(t, c)
	ack := func(n int) { send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + n), Flags: flagACK, Window: remoteWin}) }
	for i := 0; i < 4; i++ { // segments 1 and 3 lost
		ack(0)
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(0, testMSS)})
	ack(2 * testMSS) // partial: the hole at segment 3 remains
	expect(t, recv(t, c), Segment{Seq: c.lseq(1 + 2*testMSS), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(2*testMSS, testMSS)})
	if !(c.rec.state == recFast) {
		t.Fatal("left recovery on a partial ACK")
	}
}

// MUST-19 (RFC 5681 §3.1): slow start grows cwnd by at most one SMSS per
// ACK while cwnd < ssthresh; an RTO sets ssthresh = max(FlightSize/2,
// 2*SMSS) and cwnd to one segment, so one segment is retransmitted.
func TestSlowStartAndRTOCollapse(t *testing.T) {
	c := connEstablishedWith(t, newRenoConfig())
	if c.Cwnd() != 10*testMSS {
		t.Fatalf("IW %d", c.Cwnd())
	}
	c.Write(pattern(0, 20*testMSS))
	recv(t, c)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + 2*testMSS), Flags: flagACK, Window: remoteWin})
	if c.Cwnd() != 11*testMSS {
		t.Fatalf("cwnd %d after an ACK of two segments, want +1 SMSS", c.Cwnd())
	}
	recv(t, c)
	flight := c.sndUna.Size(c.sndMax)
	c.now = c.Deadline()
	segs := recv(t, c)
	if len(segs) != 1 || segs[0].Seq != c.lseq(1+2*testMSS) || len(segs[0].Payload) != testMSS {
		t.Fatalf("after RTO sent %d segments", len(segs))
	}
	if c.Cwnd() != testMSS || c.cong().Ssthresh() != uint32(flight)/2 {
		t.Fatalf("cwnd %d ssthresh %d (flight %d)", c.Cwnd(), c.cong().Ssthresh(), flight)
	}
}

// SHLD-16: after an RTO, retransmission proceeds from SND.UNA through
// the unacknowledged data as the windows allow.
func TestRetransmitFromSndUna(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 3*testMSS))
	recv(t, c)
	c.now = time.Second
	recv(t, c)
	got := drain(t, c, c.lseq(1), remoteWin)
	if len(got) != 3*testMSS {
		t.Fatalf("peer got %d", len(got))
	}
}

// MUST-19 (RFC 5681 §3.1): in congestion avoidance (cwnd >= ssthresh)
// cwnd grows by one SMSS per cwnd of bytes acknowledged, the byte
// counting the RFC recommends: one segment per round trip whether the
// peer acknowledges every segment or every second one.
func TestCongestionAvoidance(t *testing.T) {
	for _, perAck := range []int{1, 2} {
		c := connEstablishedWith(t, newRenoConfig())
		c.cong().(*newReno).ssthresh = c.Cwnd() // 14600: congestion avoidance from here
		c.Write(pattern(0, 20*testMSS))
		recv(t, c)
		start := c.Cwnd()
		for i := perAck; i <= 10; i += perAck {
			send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + i*testMSS), Flags: flagACK, Window: remoteWin})
			if want := start; i == 10 {
				if c.Cwnd() != start+testMSS {
					t.Fatalf("%d segments per ACK: cwnd %d after a window, want %d", perAck, c.Cwnd(), start+testMSS)
				}
			} else if c.Cwnd() != want {
				t.Fatalf("%d segments per ACK: cwnd %d after %d segments, want %d until a window is acknowledged", perAck, c.Cwnd(), i, want)
			}
			recv(t, c)
		}
	}
}
