package tcp

import (
	"testing"
	"time"
)

func ecnConfig(m ECNMode) Config {
	cfg := testConfig()
	cfg.ECN = m
	return cfg
}

// ecnActive is an active open in mode m whose SYN went out; it returns
// the SYN too.
func ecnActive(t *testing.T, m ECNMode) (*testConn, Segment) {
	t.Helper()
	c := &testConn{Conn: NewActive(newTestEnv(ecnConfig(m)), testTuple, 0)}
	segs := recv(t, c)
	if len(segs) != 1 {
		t.Fatalf("%d segments for the SYN", len(segs))
	}
	return c, segs[0]
}

// connECN is an established connection that negotiated ECN.
func connECN(t *testing.T) *testConn {
	t.Helper()
	c, _ := ecnActive(t, ECNOn)
	send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK | flagECE, Window: remoteWin, Options: mssOpt(remoteMSS)})
	recv(t, c)
	if !c.ECN() {
		t.Fatal("ECN not negotiated")
	}
	return c
}

// RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; ECN is on only
// if the SYN-ACK carries ECE without CWR. ECNPassive (the default) does
// not ask; a retransmitted SYN does not either (§6.1.1.1).
func TestECNNegotiationActive(t *testing.T) {
	_, syn := ecnActive(t, ECNOn)
	if syn.Flags != flagSYN|flagECE|flagCWR || syn.ECN != ECNNotECT {
		t.Fatalf("SYN flags %v ECN %d, want SEW and Not-ECT (§6.1.1)", syn.Flags, syn.ECN)
	}
	if _, syn := ecnActive(t, ECNPassive); syn.Flags != flagSYN {
		t.Fatalf("default mode asked for ECN: %v", syn.Flags)
	}
	for _, tc := range []struct {
		flags Segment
		ok    bool
	}{
		{Segment{Flags: flagSYN | flagACK | flagECE}, true},
		{Segment{Flags: flagSYN | flagACK}, false},
		{Segment{Flags: flagSYN | flagACK | flagECE | flagCWR}, false}, // a reflector of our flags
	} {
		c, _ := ecnActive(t, ECNOn)
		send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: tc.flags.Flags, Window: remoteWin, Options: mssOpt(remoteMSS)})
		if c.ECN() != tc.ok {
			t.Errorf("SYN-ACK %v: ECN %v, want %v", tc.flags.Flags, c.ECN(), tc.ok)
		}
	}
	c, _ := ecnActive(t, ECNOn)
	c.now = c.Deadline()
	re := recv(t, c)
	if len(re) != 1 || re[0].Flags != flagSYN {
		t.Fatalf("retransmitted SYN %v, want a plain SYN", re)
	}
}

// RFC 3168 §6.1.1: a listener answers an ECN-setup SYN with an
// ECN-setup SYN-ACK (ECE only) unless ECN is off, and a plain SYN with a
// plain SYN-ACK.
func TestECNNegotiationPassive(t *testing.T) {
	for _, tc := range []struct {
		mode  ECNMode
		flags Segment
		want  Segment
	}{
		{ECNPassive, Segment{Flags: flagSYN | flagECE | flagCWR}, Segment{Flags: flagSYN | flagACK | flagECE}},
		{ECNOn, Segment{Flags: flagSYN | flagECE | flagCWR}, Segment{Flags: flagSYN | flagACK | flagECE}},
		{ECNOff, Segment{Flags: flagSYN | flagECE | flagCWR}, Segment{Flags: flagSYN | flagACK}},
		{ECNOn, Segment{Flags: flagSYN}, Segment{Flags: flagSYN | flagACK}},
		{ECNOn, Segment{Flags: flagSYN | flagECE}, Segment{Flags: flagSYN | flagACK}},
	} {
		l, env := listenerWith(t, ecnConfig(tc.mode))
		syn := peerSYN
		syn.Flags = tc.flags.Flags
		c := accept(t, l, env, 0, syn)
		expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: tc.want.Flags, Window: testBuf, Options: mssOpt(testMSS)})
		if c.ECN() != (tc.want.Flags&flagECE != 0) {
			t.Errorf("mode %d, SYN %v: ECN %v", tc.mode, syn.Flags, c.ECN())
		}
	}
}

// RFC 3168 §6.1.1, §6.1.4, §6.1.5, §6.1.6: new data goes ECT(0); pure
// ACKs, retransmissions and window probes go Not-ECT. Without ECN
// nothing is ECT.
func TestECNDataIsECT(t *testing.T) {
	c := connECN(t)
	c.Write(pattern(0, 2*testMSS))
	for _, s := range recv(t, c) {
		if s.ECN != ECNECT0 {
			t.Fatalf("new data %s sent with ECN %d", fmtSeg(&s), s.ECN)
		}
	}
	c.now = c.Deadline() // RTO: the first segment again
	for _, s := range recv(t, c) {
		if s.ECN != ECNNotECT {
			t.Fatalf("retransmission %s sent ECT", fmtSeg(&s))
		}
	}
	sendText(t, c, 0, 10)
	for _, s := range recv(t, c) {
		if len(s.Payload) == 0 && s.ECN != ECNNotECT {
			t.Fatalf("pure ACK sent ECT")
		}
	}
	// A zero-window probe is not ECT either.
	d := connECN(t)
	send(t, d, Segment{Seq: rseq(1), Ack: d.lseq(1), Flags: flagACK, Window: 0})
	d.Write([]byte("probe"))
	recv(t, d)
	d.now = d.Deadline()
	for _, s := range recv(t, d) {
		if len(s.Payload) > 0 && s.ECN != ECNNotECT {
			t.Fatalf("window probe %s sent ECT", fmtSeg(&s))
		}
	}
	e := connEstablished(t)
	e.Write(pattern(0, 100))
	if s := recv(t, e); len(s) != 1 || s[0].ECN != ECNNotECT {
		t.Fatal("ECT without ECN negotiated")
	}
}

// RFC 3168 §6.1.3: a CE-marked data segment is acknowledged (at once)
// with ECE, and every ACK carries ECE until a segment with CWR arrives.
func TestECNEchoUntilCWR(t *testing.T) {
	c := connECN(t)
	ce := Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(0, 100), ECN: ECNCE}
	send(t, c, ce)
	got := recv(t, c)
	if len(got) != 1 || got[0].Flags != flagACK|flagECE {
		t.Fatalf("after CE: %v, want one ACK with ECE", got)
	}
	sendText(t, c, 100, 100) // not marked: ECE continues
	if got := recv(t, c); len(got) != 1 || got[0].Flags&flagECE == 0 {
		t.Fatalf("ECE stopped before CWR: %v", got)
	}
	send(t, c, Segment{Seq: rseq(201), Ack: c.lseq(1), Flags: flagACK | flagCWR, Window: remoteWin, Payload: pattern(200, 100), ECN: ECNECT0})
	if got := recv(t, c); len(got) != 1 || got[0].Flags&flagECE != 0 {
		t.Fatalf("ECE after CWR: %v", got)
	}
	if c.env.Stats.ECNCEReceived != 1 {
		t.Fatalf("ECNCEReceived %d", c.env.Stats.ECNCEReceived)
	}
	// Without ECN negotiated a CE mark is not echoed.
	d := connEstablished(t)
	ce.Ack = d.lseq(1)
	send(t, d, ce)
	if got := recv(t, d); len(got) != 1 || got[0].Flags&flagECE != 0 {
		t.Fatalf("ECE without ECN: %v", got)
	}
}

// RFC 3168 §6.1.2: ECE reduces the window through the congestion-control
// algorithm, at most once per window of data; the next new data segment
// carries CWR.
func TestECNReductionOncePerWindow(t *testing.T) {
	c := connECN(t)
	c.Write(pattern(0, 30*testMSS))
	recv(t, c) // the initial window: 10 segments
	cwnd := c.Cwnd()
	ece := func(n int) {
		send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + n*testMSS), Flags: flagACK | flagECE, Window: remoteWin})
	}
	c.now = 10 * time.Millisecond
	ece(1)
	if c.Cwnd() >= cwnd || c.cong().Ssthresh() != c.Cwnd() || c.env.Stats.ECNReductions != 1 {
		t.Fatalf("after ECE: cwnd %d (was %d) ssthresh %d, reductions %d", c.Cwnd(), cwnd, c.cong().Ssthresh(), c.env.Stats.ECNReductions)
	}
	after := c.Cwnd()
	if segs := recv(t, c); len(segs) != 0 {
		t.Fatalf("sent %d segments with the flight above the reduced cwnd", len(segs))
	}
	// An ACK without ECE opens room: the first new segment has CWR.
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + 5*testMSS), Flags: flagACK, Window: remoteWin})
	segs := recv(t, c)
	cwr := 0
	for _, s := range segs {
		if s.Flags&flagCWR != 0 {
			cwr++
		}
	}
	if len(segs) == 0 || segs[0].Flags&flagCWR == 0 || cwr != 1 {
		t.Fatalf("CWR on %d of %d segments, want the first only", cwr, len(segs))
	}
	// Within the same window: no second reduction.
	ece(6)
	ece(7)
	if c.env.Stats.ECNReductions != 1 || c.Cwnd() < after {
		t.Fatalf("second reduction within a window: cwnd %d, reductions %d", c.Cwnd(), c.env.Stats.ECNReductions)
	}
	// Past the window outstanding at the reduction: ECE counts again.
	recv(t, c)
	ece(12)
	if c.env.Stats.ECNReductions != 2 {
		t.Fatalf("no reduction for ECE in the next window (reductions %d)", c.env.Stats.ECNReductions)
	}
}
