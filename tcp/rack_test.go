package tcp

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// RFC 8985 §6.2 step 4: the reordering window is zero before reordering
// is seen (in recovery, or with DupThresh segments SACKed), min_RTT/4
// once it is, grows by min_RTT/4 per round trip with a D-SACK, is capped
// at SRTT, and goes back after 16 recoveries without D-SACKs.
func TestRACKReorderingWindow(t *testing.T) {
	var r rack
	r.init()
	r.minRTT, r.valid = 40*time.Millisecond, true
	srtt := 100 * time.Millisecond
	if w := r.reoWnd(true, 0, srtt); w != 0 {
		t.Fatalf("in recovery before reordering: %v", w)
	}
	if w := r.reoWnd(false, 3, srtt); w != 0 {
		t.Fatalf("three SACKed before reordering: %v", w)
	}
	if w := r.reoWnd(false, 1, srtt); w != 10*time.Millisecond {
		t.Fatalf("open, one SACKed: %v, want min_RTT/4", w)
	}
	r.onDSACK(100, 200) // sets reordering_seen too
	if w := r.reoWnd(true, 5, srtt); w != 20*time.Millisecond {
		t.Fatalf("after a D-SACK: %v, want 2*min_RTT/4", w)
	}
	r.onDSACK(150, 200) // same round (SND.UNA below 200): no growth
	if r.reoWndMult != 2 {
		t.Fatalf("mult %d after a second D-SACK in one round", r.reoWndMult)
	}
	for i := 0; i < 20; i++ {
		r.onDSACK(seqnum.Value(200+i*100), seqnum.Value(300+i*100))
	}
	if w := r.reoWnd(true, 5, srtt); w != srtt {
		t.Fatalf("window %v, want capped at SRTT", w)
	}
	for i := 0; i < 15; i++ {
		r.recoveryEnded()
	}
	if r.reoWndMult == 1 {
		t.Fatal("reset before 16 recoveries")
	}
	r.recoveryEnded()
	if r.reoWndMult != 1 {
		t.Fatalf("mult %d after 16 recoveries without D-SACK", r.reoWndMult)
	}
}
