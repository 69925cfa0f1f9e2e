package tcp

import (
	"testing"

	"github.com/threeway-tcp/threeway/wire"
)

// RFC 6191 §2: a SYN in TIME-WAIT whose timestamp equals TS.Recent (both
// connections in the same millisecond) reopens if its sequence number is
// higher, and not otherwise.
func TestTimeWaitReopenWithEqualTimestamp(t *testing.T) {
	for _, tc := range []struct {
		seq    int
		reopen bool
	}{{100000, true}, {-5000, false}} {
		cfg := testConfig()
		cfg.NoTimestamps = false
		c, _ := handshake(t, cfg, wire.Options{HasMSS: true, MSS: remoteMSS, HasTimestamps: true, TSVal: 1000}, remoteWin)
		recv(t, c)
		c.CloseWrite(c.now)
		recv(t, c)
		send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(2), Flags: flagACK | flagFIN, Window: remoteWin,
			Options: wire.Options{HasTimestamps: true, TSVal: 1001, TSEcr: c.tsVal(c.now)}})
		recv(t, c)
		expectState(t, c, TimeWait)
		send(t, c, peerSYN.seq(rseq(tc.seq)).opts(wire.Options{HasTimestamps: true, TSVal: 1001}))
		if got := c.State() == Closed && c.TakeEvents()&EvReopen != 0; got != tc.reopen {
			t.Errorf("SYN at seq %+d with an equal timestamp: reopened %v, want %v", tc.seq, got, tc.reopen)
		}
	}
}

// A FIN and a newer SYN in one batch (no Poll between them): the FIN
// takes the connection to TIME-WAIT and is owed an ACK; the SYN reopens
// it. The ACK goes out before the old TCB retires, or the peer would sit
// in LAST-ACK retransmitting its FIN into the new incarnation.
func TestTimeWaitReopenSendsOwedAck(t *testing.T) {
	c := connFinWait2(t)
	send(t, c, fromPeer.ack(c.lseq(2)).flags(flagACK|flagFIN))
	expectState(t, c, TimeWait)
	send(t, c, peerSYN.seq(rseq(100000)))
	expectState(t, c, Closed)
	if c.TakeEvents()&EvReopen == 0 {
		t.Fatal("no EvReopen")
	}
	expect(t, c.take(t), fromUs.seq(c.lseq(2)).ack(rseq(2)).win(testBuf-1))
}
