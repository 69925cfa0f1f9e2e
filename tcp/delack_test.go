package tcp

import (
	"testing"
	"time"
)

// delAckConfig is testConfig with delayed ACKs on (the default).
func delAckConfig() Config {
	cfg := testConfig()
	cfg.NoDelayedAck = false
	return cfg
}

// connDelAck is an established connection with delayed ACKs on, past its
// quick-ack start (as if its first segments had come and gone).
func connDelAck(t *testing.T) *testConn {
	t.Helper()
	c := connEstablishedWith(t, delAckConfig())
	c.delack.quick = quickAckSegments
	return c
}

// sendText sends the peer's text of n octets at offset off.
func sendText(t *testing.T, c *testConn, off, n int) {
	t.Helper()
	send(t, c, Segment{Seq: rseq(1 + off), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(off, n)})
}

// ackOf is our pure ACK of the peer's first n octets.
func ackOf(c *testConn, n int) Segment {
	return Segment{Seq: c.lseq(1), Ack: rseq(1 + n), Flags: flagACK, Window: uint16(testBuf - n)}
}

// SHLD-19 (RFC 9293 §3.8.6.3, RFC 5681 §4.2): an ACK at least for every
// second full-sized segment (here: once more than one full segment's worth
// is unacknowledged); one segment alone waits. Full-sized is the largest
// segment seen, at least RFC 9293's default MSS of 536.
func TestDelayedAckEverySecondFullSegment(t *testing.T) {
	c := connDelAck(t)
	sendText(t, c, 0, testMSS)
	expect(t, recv(t, c))
	sendText(t, c, testMSS, testMSS)
	expect(t, recv(t, c), ackOf(c, 2*testMSS))
	// "Full-sized" is the largest segment seen: a peer sending 1448-byte
	// segments (timestamps) still gets an ACK every second one.
	d := connDelAck(t)
	sendText(t, d, 0, 1448)
	sendText(t, d, 1448, 1448)
	expect(t, recv(t, d), ackOf(d, 2*1448))
	// A full segment and a short one (the tail of a write) are more than
	// one full segment's worth: acknowledged at once, as Linux does.
	f := connDelAck(t)
	sendText(t, f, 0, testMSS)
	sendText(t, f, testMSS, 100)
	expect(t, recv(t, f), ackOf(f, testMSS+100))
	// Small segments do not count as full-sized (at least 536 octets):
	// 2 x 200 waits, a third makes 600 > 536.
	e := connDelAck(t)
	for i := 0; i < 2; i++ {
		sendText(t, e, i*200, 200)
	}
	expect(t, recv(t, e))
	sendText(t, e, 400, 200)
	expect(t, recv(t, e), ackOf(e, 600))
}

// SHLD-18, MUST-40: a lone segment is acknowledged after the delay
// (Config.DelayedAck, default 40 ms), not at once and not never.
func TestDelayedAckTimer(t *testing.T) {
	c := connDelAck(t)
	c.now = time.Second
	sendText(t, c, 0, 100)
	expect(t, recv(t, c))
	if d := c.Deadline(); d != time.Second+DefaultDelayedAck {
		t.Fatalf("deadline %v, want the delayed ACK at %v", d, time.Second+DefaultDelayedAck)
	}
	// More small text within the delay does not push the timer back.
	c.now += 10 * time.Millisecond
	sendText(t, c, 100, 100)
	expect(t, recv(t, c))
	c.now = time.Second + DefaultDelayedAck - 1
	expect(t, recv(t, c))
	c.now++
	expect(t, recv(t, c), ackOf(c, 200))
	if d := c.Deadline(); d != Never {
		t.Fatalf("deadline %v after the delayed ACK", d)
	}
}

// RFC 5681 §4.2: out-of-order text gets an immediate duplicate ACK, and
// text that fills the hole an immediate ACK.
func TestDelayedAckImmediateForOutOfOrder(t *testing.T) {
	c := connDelAck(t)
	sendText(t, c, testMSS, testMSS) // the first segment is missing
	expect(t, recv(t, c), ackOf(c, 0))
	sendText(t, c, 0, testMSS)
	got := recv(t, c)
	if len(got) != 1 || got[0].Ack != rseq(1+2*testMSS) {
		t.Fatalf("hole filled: got %d segments %v, want one ACK of both", len(got), got)
	}
}

// Quick-ack: the first quickAckSegments text segments of a connection are
// acknowledged one by one, so the peer's slow start is not held back.
func TestQuickAckAtStart(t *testing.T) {
	c := connEstablishedWith(t, delAckConfig())
	for i := 0; i < quickAckSegments; i++ {
		sendText(t, c, i*100, 100)
		expect(t, recv(t, c), ackOf(c, (i+1)*100))
	}
	sendText(t, c, quickAckSegments*100, 100)
	expect(t, recv(t, c))
}

// An ACK rides on data we send (RFC 9293 §3.8.6.3: "piggybacked"), and
// the delayed ACK it replaces is not sent afterwards.
func TestDelayedAckPiggybacked(t *testing.T) {
	c := connDelAck(t)
	sendText(t, c, 0, 100)
	c.Write([]byte("reply"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(101), Flags: flagACK | flagPSH, Window: testBuf - 100, Payload: []byte("reply")})
	c.now += DefaultDelayedAck
	for _, s := range recv(t, c) {
		if len(s.Payload) == 0 {
			t.Fatalf("delayed ACK sent after it was piggybacked: %s", fmtSeg(&s))
		}
	}
}

// A FIN and a window update are acknowledged or sent at once even with
// delayed ACKs (RFC 9293 §3.8.6.2.2; RFC 5681 §4.2 allows the delay only
// for in-order text).
func TestDelayedAckFinAndWindowUpdateImmediate(t *testing.T) {
	c := connDelAck(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK | flagFIN, Window: remoteWin})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(2), Flags: flagACK, Window: testBuf - 1})

	cfg := delAckConfig()
	cfg.RecvBuffer = 3000
	d := connEstablishedWith(t, cfg)
	d.delack.quick = quickAckSegments
	sendText(t, d, 0, 1460)
	sendText(t, d, 1460, 1460)
	expect(t, recv(t, d), Segment{Seq: d.lseq(1), Ack: rseq(2921), Flags: flagACK, Window: 80})
	sendText(t, d, 2920, 80) // fills the window: no ACK yet
	expect(t, recv(t, d))
	d.Read(make([]byte, 3000))
	expect(t, recv(t, d), Segment{Seq: d.lseq(1), Ack: rseq(3001), Flags: flagACK, Window: 3000})
}

// Config: NoDelayedAck acknowledges every segment; DelayedAck sets the
// delay, at most 499 ms (MUST-40: "less than 0.5 seconds").
func TestDelayedAckConfig(t *testing.T) {
	if d := NewEnv(Config{DelayedAck: time.Second}, testSecret).Config.DelayedAck; d != 499*time.Millisecond {
		t.Fatalf("DelayedAck 1 s normalized to %v", d)
	}
	if d := NewEnv(Config{}, testSecret).Config.DelayedAck; d != DefaultDelayedAck {
		t.Fatalf("default DelayedAck %v", d)
	}
	cfg := delAckConfig()
	cfg.DelayedAck = 150 * time.Millisecond
	c := connEstablishedWith(t, cfg)
	c.delack.quick = quickAckSegments
	sendText(t, c, 0, 100)
	if d := c.Deadline(); d != 150*time.Millisecond {
		t.Fatalf("deadline %v, want 150ms", d)
	}
	off := connEstablished(t) // testConfig: NoDelayedAck
	off.delack.quick = quickAckSegments
	sendText(t, off, 0, 100)
	expect(t, recv(t, off), ackOf(off, 100))
}
