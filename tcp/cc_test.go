package tcp

import (
	"testing"
	"time"
)

// newRenoConfig is testConfig with NewReno, for the tests of RFC 5681's
// and RFC 6582's arithmetic.
func newRenoConfig() Config {
	cfg := testConfig()
	cfg.CongestionControl = CCNewReno
	return cfg
}

// CUBIC is the default; NewReno is chosen per stack (Config) or per
// connection (SetCongestionControl), and the choice survives the
// handshake's re-initialisation of the window.
func TestCongestionControlSelection(t *testing.T) {
	if _, ok := connEstablished(t).cong().(*cubic); !ok {
		t.Fatalf("default algorithm %T, want CUBIC", connEstablished(t).cong())
	}
	if _, ok := connEstablishedWith(t, newRenoConfig()).cong().(*newReno); !ok {
		t.Fatal("Config.CongestionControl = CCNewReno not honoured")
	}
	c := connSynSent(t)
	c.SetCongestionControl(CCNewReno)
	send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expectState(t, c, Established)
	if _, ok := c.cong().(*newReno); !ok {
		t.Fatalf("per-connection choice lost in the handshake: %T", c.cong())
	}
	if c.Cwnd() != initialWindow(remoteMSS) {
		t.Fatalf("cwnd %d after the handshake, want IW %d", c.Cwnd(), initialWindow(remoteMSS))
	}
	// Too late once data has gone out.
	c.Write(pattern(0, 100))
	recv(t, c)
	c.SetCongestionControl(CCCubic)
	if _, ok := c.cong().(*newReno); !ok {
		t.Fatal("algorithm changed after data was sent")
	}
}

// Undo (RFC 5682, RFC 6675 §5 undo) restores NewReno's window from before a
// spurious reduction.
func TestNewRenoUndo(t *testing.T) {
	r := newNewReno(1000)
	r.SetCwnd(40000)
	r.OnCongestionEvent(0, 40000)
	if r.Ssthresh() != 20000 || r.Cwnd() != 20000 {
		t.Fatalf("after loss: ssthresh %d cwnd %d", r.Ssthresh(), r.Cwnd())
	}
	r.Undo(time.Second)
	if r.Cwnd() != 40000 || r.Ssthresh() != maxCwnd {
		t.Fatalf("after undo: ssthresh %d cwnd %d", r.Ssthresh(), r.Cwnd())
	}
}
