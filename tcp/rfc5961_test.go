package tcp

// RFC 5961 (Improving TCP's Robustness to Blind In-Window Attacks), as
// RFC 9293 §3.10.7.4 incorporates it: RST validation (§3), SYN in a
// synchronized state (§4), ACK validation (§5) and the challenge ACK rate
// limit (§7).

import (
	"errors"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second check, 1): a RST outside the
// receive window is dropped silently.
func TestRstOutOfWindowDroppedSilently(t *testing.T) {
	for _, seq := range []seqnum.Value{rseq(0), rseq(1 + testBuf), rseq(-1000000), rseq(1 << 30)} {
		c := connEstablished(t)
		before := c.env.Stats
		send(t, c, Segment{Seq: seq, Flags: flagRST})
		send(t, c, Segment{Seq: seq, Ack: c.lseq(1), Flags: flagRST | flagACK})
		expect(t, recv(t, c))
		expectState(t, c, Established)
		expectDrop(t, c.env, before, DropRSTOutOfWindow, 2)
	}
}

// RFC 5961 §3.2 (2): a RST exactly at RCV.NXT resets the connection; the
// user hears ECONNRESET (MUST-12).
func TestRstExactResets(t *testing.T) {
	c := connEstablished(t)
	c.Write([]byte("pending"))
	recv(t, c)
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST})
	expect(t, recv(t, c))
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionReset) {
		t.Fatalf("err %v", c.Err())
	}
	if ev := c.TakeEvents(); ev&(EvError|EvClosed|EvReadable|EvWritable) != EvError|EvClosed|EvReadable|EvWritable {
		t.Fatalf("events %b", ev)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrConnectionReset) {
		t.Fatalf("Read err %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrConnectionReset) {
		t.Fatalf("Write err %v", err)
	}
	if c.env.Stats.EstabResets != 1 || c.env.Stats.CurrEstab != 0 {
		t.Fatalf("stats %+v", c.env.Stats)
	}
}

// RFC 9293 §3.10.7.4 second check: an exact RST closes every
// synchronized state; FIN-WAIT-1/2 and CLOSE-WAIT report the reset,
// CLOSING and LAST-ACK just close.
func TestRstExactInEachState(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(testing.TB) *testConn
		at   int
		err  error
	}{
		{"FIN-WAIT-1", connFinWait1, 1, ErrConnectionReset},
		{"FIN-WAIT-2", connFinWait2, 1, ErrConnectionReset},
		{"CLOSE-WAIT", connCloseWait, 2, ErrConnectionReset},
		{"CLOSING", connClosing, 2, nil},
		{"LAST-ACK", connLastAck, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.mk(t)
			send(t, c, Segment{Seq: rseq(tc.at), Flags: flagRST})
			expect(t, recv(t, c))
			expectState(t, c, Closed)
			if !errors.Is(c.Err(), tc.err) && c.Err() != tc.err {
				t.Fatalf("err %v, want %v", c.Err(), tc.err)
			}
		})
	}
}

// RFC 5961 §3.2 (3): a RST in the window but not at RCV.NXT gets a
// challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing;
// the genuine peer answers it with a RST at RCV.NXT.
func TestRstInWindowChallengeAck(t *testing.T) {
	c := connEstablished(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(2), Flags: flagRST})
	c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
	send(t, c, Segment{Seq: rseq(testBuf), Ack: c.lseq(1), Flags: flagRST | flagACK})
	ack := fromPeer.seq(c.lseq(1)).ack(rseq(1)).win(testBuf)
	expect(t, recv(t, c), ack, ack)
	expectState(t, c, Established)
	expectDrop(t, c.env, before, DropRSTChallenged, 2)
	if c.env.Stats.ChallengeAcks != 2 {
		t.Fatalf("ChallengeAcks %d", c.env.Stats.ChallengeAcks)
	}
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST})
	expectState(t, c, Closed)
}

// RFC 5961 §4.2: a SYN in a synchronized state, in the window or not, gets
// a challenge ACK and is dropped.
func TestSynInEstablishedChallengeAck(t *testing.T) {
	for _, seq := range []seqnum.Value{rseq(1), rseq(500), rseq(-5), rseq(1 << 31)} {
		c := connEstablished(t)
		before := c.env.Stats
		send(t, c, peerSYN.seq(seq))
		// In the window or not, the same challenge ACK, counted as one.
		expect(t, recv(t, c), fromUs)
		expectDrop(t, c.env, before, DropSYNChallenged, 1)
		if c.env.Stats.ChallengeAcks != 1 {
			t.Fatalf("ChallengeAcks %d", c.env.Stats.ChallengeAcks)
		}
		expectState(t, c, Established)
	}
	// Likewise a SYN-ACK, and in the other synchronized states.
	for _, mk := range []func(testing.TB) *testConn{connFinWait1, connFinWait2, connCloseWait, connClosing, connLastAck} {
		c := mk(t)
		st := c.State()
		send(t, c, fromPeer.seq(c.rcvNxt).ack(c.sndMax).flags(flagSYN|flagACK))
		got := recv(t, c)
		if len(got) != 1 || got[0].Flags != flagACK || got[0].Ack != c.rcvNxt || got[0].Seq != c.sndMax {
			t.Fatalf("%v: %v", st, got)
		}
		expectState(t, c, st)
	}
}

// RFC 5961 §5.2: an ACK is acceptable only in
// SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT; otherwise the segment,
// text and all, is dropped and an ACK sent.
func TestAckRangeCheck(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 100))
	recv(t, c)
	send(t, c, fromPeer.ack(c.lseq(51)))
	// SND.UNA = L+51, SND.NXT = L+101, MAX.SND.WND = 60000.
	for _, tc := range []struct {
		name string
		ack  seqnum.Value
		ok   bool
	}{
		{"too new", c.lseq(102), false},
		{"far too new", c.lseq(1 << 30), false},
		{"too old", c.lseq(51 - 60001), false},
		{"oldest allowed", c.lseq(51 - 60000), true},
		{"duplicate", c.lseq(51), true},
		{"SND.NXT", c.lseq(101), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connEstablished(t)
			c.Write(pattern(0, 100))
			recv(t, c)
			send(t, c, fromPeer.ack(c.lseq(51)))
			before := c.env.Stats
			send(t, c, fromPeer.ack(tc.ack).payload("text"))
			if tc.ok {
				expect(t, recv(t, c), fromUs.seq(c.lseq(101)).ack(rseq(5)).win(testBuf-4))
				if c.Readable() != 4 {
					t.Fatalf("text not accepted")
				}
				return
			}
			expect(t, recv(t, c), fromUs.seq(c.lseq(101)))
			expectDrop(t, c.env, before, DropAckUnacceptable, 1)
			if c.Readable() != 0 || c.sndUna != c.lseq(51) {
				t.Fatalf("segment with unacceptable ACK was processed")
			}
		})
	}
}

// An ACK below SND.UNA that RFC 5961 §5.2 lets through (within
// MAX.SND.WND) still must not update the send window: RFC 9293 §3.10.7.4
// updates it only "If SND.UNA =< SEG.ACK =< SND.NXT".
func TestOldAckDoesNotUpdateWindow(t *testing.T) {
	c := connEstablished(t)
	c.Write(pattern(0, 100))
	recv(t, c)
	send(t, c, fromPeer.ack(c.lseq(51)).data(pattern(0, 10)))
	recv(t, c)
	send(t, c, fromPeer.seq(rseq(11)).win(0).data(pattern(10, 10)))
	expect(t, recv(t, c), fromUs.seq(c.lseq(101)).ack(rseq(21)).win(testBuf-20))
	if c.sndWnd != remoteWin || c.sndUna != c.lseq(51) {
		t.Fatalf("SND.WND %d SND.UNA %v: an old ACK moved the window", c.sndWnd, c.sndUna)
	}
}

// RFC 5961 §7, per connection (Linux tcp_invalid_ratelimit): whatever
// mix of invalid segments arrives, a connection answers one per
// Config.InvalidRateLimit. Each suppressed answer is counted under its
// kind and dropped under its own reason; an interval later answers flow
// again.
func TestInvalidAnswersRateLimited(t *testing.T) {
	c := connEstablished(t)
	ack := fromPeer.seq(c.lseq(1)).ack(rseq(1)).win(testBuf)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(10), Flags: flagRST}) // in window: challenge ACK
	expect(t, recv(t, c), ack)
	c.now += c.env.Config.InvalidRateLimit - 1
	send(t, c, Segment{Seq: rseq(11), Flags: flagRST})        // challenge
	send(t, c, Segment{Seq: rseq(5), Flags: flagSYN})         // challenge
	send(t, c, fromPeer.ack(c.lseq(1<<20)))                   // §5.2 challenge
	send(t, c, fromPeer.seq(rseq(-5000)))                     // out of window
	send(t, c, fromPeer.seq(rseq(1<<30)).win(0).payload("x")) // out of window
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropChallengeAckLimited, 3)
	expectDrop(t, c.env, before, DropOutOfWindowAckLimited, 2)
	expectDrop(t, c.env, before, DropRSTChallenged, 1)
	if st := c.env.Stats; st.ChallengeAcks-before.ChallengeAcks != 1 || st.ACKSkippedChallenge-before.ACKSkippedChallenge != 3 ||
		st.ACKSkippedSeq-before.ACKSkippedSeq != 2 {
		t.Fatalf("ChallengeAcks +%d ACKSkippedChallenge +%d ACKSkippedSeq +%d", st.ChallengeAcks-before.ChallengeAcks,
			st.ACKSkippedChallenge-before.ACKSkippedChallenge, st.ACKSkippedSeq-before.ACKSkippedSeq)
	}
	c.now++
	send(t, c, fromPeer.seq(rseq(-5000)))
	send(t, c, Segment{Seq: rseq(11), Flags: flagRST})
	expect(t, recv(t, c), ack)
	expectDrop(t, c.env, before, DropOutOfWindow, 1)
	expectState(t, c, Established)
}

// The budget is each connection's own: an attacker that spends it on a
// connection of its own (CVE-2016-5696's probe) leaves every other
// connection's answers where they were, so counting its answers tells it
// nothing about them.
func TestInvalidAnswerBudgetPerConnection(t *testing.T) {
	cfg := testConfig()
	env := newTestEnv(cfg)
	a := connEstablishedWith(t, cfg)
	a.Conn.env = env
	b := connEstablishedWith(t, cfg)
	b.Conn.env = env
	for i := 0; i < 100; i++ {
		send(t, a, Segment{Seq: rseq(10 + i), Flags: flagRST})
	}
	if got := len(recv(t, a)); got != 1 {
		t.Fatalf("100 in-window RSTs drew %d challenge ACKs, want 1", got)
	}
	send(t, b, Segment{Seq: rseq(10), Flags: flagRST})
	if got := len(recv(t, b)); got != 1 {
		t.Fatalf("the other connection answered %d times, want 1", got)
	}
}

// Linux's counters: in SYN-RECEIVED and TIME-WAIT the state names the
// skipped answer (TCPACKSkippedSynRecv, TCPACKSkippedTimeWait); elsewhere
// its kind (TCPACKSkippedPAWS, ...).
func TestInvalidAnswerCountersByState(t *testing.T) {
	t.Run("SYN-RECEIVED", func(t *testing.T) {
		c := connSynReceivedPassive(t)
		before := c.env.Stats
		for i := 0; i < 3; i++ {
			send(t, c, fromPeer.seq(rseq(-1000-i)))
		}
		if got := len(recv(t, c)); got != 1 {
			t.Fatalf("%d answers", got)
		}
		expectDrop(t, c.env, before, DropSynRecvAnswerLimited, 2)
		if c.env.Stats.ACKSkippedSynRecv != 2 {
			t.Fatalf("ACKSkippedSynRecv %d", c.env.Stats.ACKSkippedSynRecv)
		}
	})
	t.Run("TIME-WAIT", func(t *testing.T) {
		c := connTimeWait(t)
		before := c.env.Stats
		for i := 0; i < 3; i++ {
			send(t, c, fromPeer.seq(rseq(1<<20)).ack(c.lseq(2)))
		}
		if got := len(recv(t, c)); got != 1 {
			t.Fatalf("%d answers", got)
		}
		expectDrop(t, c.env, before, DropTimeWaitAckLimited, 2)
		if c.env.Stats.ACKSkippedTimeWait != 2 {
			t.Fatalf("ACKSkippedTimeWait %d", c.env.Stats.ACKSkippedTimeWait)
		}
	})
	t.Run("PAWS", func(t *testing.T) {
		c := tsConn(t)
		before := c.env.Stats
		for i := 0; i < 3; i++ {
			send(t, c, fromPeer.opts(peerTS(4000)).payload("old"))
		}
		if got := len(recv(t, c)); got != 1 {
			t.Fatalf("%d answers", got)
		}
		expectDrop(t, c.env, before, DropPAWSAckLimited, 2)
		expectDrop(t, c.env, before, DropPAWSReject, 1)
		if c.env.Stats.ACKSkippedPAWS != 2 || c.env.Stats.PAWSRejects != 3 {
			t.Fatalf("ACKSkippedPAWS %d PAWSRejects %d", c.env.Stats.ACKSkippedPAWS, c.env.Stats.PAWSRejects)
		}
	})
}

// A segment at exactly RCV.NXT-1 with at most one octet (a keep-alive
// probe, RFC 9293 §3.8.4) draws on a budget of its own: a flood of blind
// guesses that spends the connection's budget does not leave the peer's
// keep-alives unanswered, which would let it time the connection out.
// Only the exact sequence number reaches that budget, and it too is one
// answer per interval.
func TestKeepAliveProbeAnsweredDuringFlood(t *testing.T) {
	c := connEstablished(t)
	ack := fromPeer.seq(c.lseq(1)).ack(rseq(1)).win(testBuf)
	for i := 0; i < 50; i++ {
		send(t, c, fromPeer.seq(rseq(-100000-1000*i)))
	}
	expect(t, recv(t, c), ack)
	probe := fromPeer.seq(rseq(0))
	send(t, c, probe)
	send(t, c, probe)
	expect(t, recv(t, c), ack)
	probe.Payload = []byte{0}
	c.now += c.env.Config.InvalidRateLimit
	send(t, c, probe)
	expect(t, recv(t, c), ack)
}

// RFC 5961 §4.2 and RFC 9293 §3.5.1 (figures 10 and 11): a SYN in a
// synchronized state gets a challenge ACK even when the connection
// negotiated timestamps and the SYN carries none (a peer that rebooted
// and reconnects without them must learn its old connection is
// half-open), and whatever its TSval. Everything else without TSopt is
// still dropped silently (RFC 7323 §3.2), RSTs excepted.
func TestSynWithoutTimestampChallenged(t *testing.T) {
	c := tsConn(t)
	c.now = time.Second
	for _, syn := range []Segment{
		{Seq: rseq(1 << 30), Flags: flagSYN, Window: remoteWin, Options: mssOpt(remoteMSS)},
		{Seq: rseq(100), Flags: flagSYN, Window: remoteWin, Options: mssOpt(remoteMSS)},
		{Seq: rseq(100), Flags: flagSYN, Window: remoteWin, Options: peerTS(1)}, // PAWS would reject it
	} {
		c.now += c.env.Config.InvalidRateLimit
		before := c.env.Stats
		send(t, c, syn)
		expect(t, recv(t, c), fromUs.opts(c.ts(5000)))
		expectDrop(t, c.env, before, DropSYNChallenged, 1)
		expectState(t, c, Established)
	}
	c.now += c.env.Config.InvalidRateLimit
	before := c.env.Stats
	for _, seg := range []Segment{
		{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: []byte("data")},
		{Seq: rseq(1 << 30), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin},
		{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK | flagFIN, Window: remoteWin},
	} {
		send(t, c, seg)
	}
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropMissingTimestamp, 3)
	if c.Readable() != 0 {
		t.Fatal("text without TSopt accepted")
	}
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST})
	expectState(t, c, Closed)
}

// RFC 9293 §3.5.2 (group 2): in SYN-RECEIVED an ACK of something never
// sent gets <SEQ=SEG.ACK><CTL=RST> whatever its sequence number, as in
// Linux's tcp_check_req: the half-open discovery of §3.5.1 that ends the
// exchange between a child made by a blind SYN and the old peer.
func TestSynReceivedBadAckResetBeforeSeqCheck(t *testing.T) {
	c := connSynReceivedPassive(t)
	send(t, c, fromPeer.seq(rseq(1<<30)).ack(c.lseq(5000)))
	expect(t, recv(t, c), Segment{Seq: c.lseq(5000), Flags: flagRST})
	expectState(t, c, SynReceived)
	// Within the budget too: a flood of them draws one RST an interval.
	before := c.env.Stats
	for i := 0; i < 10; i++ {
		send(t, c, fromPeer.seq(rseq(1<<30)).ack(c.lseq(6000+i)))
	}
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropSynRecvAnswerLimited, 10)
}
