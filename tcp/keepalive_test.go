package tcp

import (
	"errors"
	"testing"
	"time"
)

// MUST-25: keep-alives are off by default: an idle connection sends nothing.
func TestKeepAliveOffByDefault(t *testing.T) {
	c := connEstablished(t)
	c.now += 10 * KeepAliveIdle
	expect(t, recv(t, c))
	if c.Deadline() != Never {
		t.Fatalf("idle connection has a deadline %v", c.Deadline())
	}
}

// MUST-24, MUST-26, SHLD-12: when asked, an idle connection is probed with
// <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data, once the idle time has passed.
func TestKeepAliveProbesAfterIdle(t *testing.T) {
	c := connEstablished(t)
	c.SetKeepAlive(c.now, true, 10*time.Second, 2*time.Second, 3)
	start := c.now
	c.now = start + 10*time.Second - time.Millisecond
	expect(t, recv(t, c))
	c.now = start + 10*time.Second
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagACK, Window: testBuf})
	// The peer answers: the idle period starts again (MUST-29: a lost
	// answer would only cost one of the probes).
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin})
	c.now += 10*time.Second - time.Millisecond
	expect(t, recv(t, c))
	c.now += time.Millisecond
	if got := recv(t, c); len(got) != 1 || got[0].Seq != c.lseq(0) {
		t.Fatalf("no second probe after another idle period: %v", got)
	}
}

// Unanswered probes end the connection with ETIMEDOUT after count of them.
func TestKeepAliveGivesUp(t *testing.T) {
	c := connEstablished(t)
	c.SetKeepAlive(c.now, true, 10*time.Second, 2*time.Second, 3)
	c.now += 10 * time.Second
	for i := 0; i < 3; i++ {
		if got := recv(t, c); len(got) != 1 {
			t.Fatalf("probe %d: %v", i+1, got)
		}
		c.now += 2 * time.Second
	}
	recv(t, c)
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrTimedOut) || c.env.Stats.KeepAliveProbes != 3 {
		t.Fatalf("err %v, probes %d", c.Err(), c.env.Stats.KeepAliveProbes)
	}
}
