package tcp

import "testing"

// RFC 6937 §3.1 and its §6 example: RecoverFS = 20 segments, ssthresh =
// 10 (a halving), every ACK delivering one segment while pipe stays above
// ssthresh: PRR sends one segment for every two delivered, spread over
// the round trip, and has sent ssthresh when RecoverFS is delivered.
func TestPRRProportionalRFC6937(t *testing.T) {
	const mss = 1000
	var p prr
	p.start(20 * mss)
	var sends []int
	pipe := uint32(19 * mss) // one segment lost
	for i := 0; i < 20; i++ {
		n := p.sndcnt(mss, pipe, 10*mss, mss)
		segs := int(n / mss)
		p.sent(uint32(segs) * mss)
		sends = append(sends, segs)
		pipe = pipe - mss + uint32(segs)*mss
		if pipe <= 10*mss {
			pipe = 10*mss + 1 // stay in the proportional part
		}
	}
	want := []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	for i := range want {
		if sends[i] != want[i] {
			t.Fatalf("sends %v, want %v", sends, want)
		}
	}
	if p.out != 10*mss {
		t.Fatalf("prr_out %d after RecoverFS delivered, want ssthresh", p.out)
	}
}

// RFC 6937 §3.1, PRR-SSRB: once pipe is below ssthresh, sndcnt =
// MIN(ssthresh - pipe, MAX(prr_delivered - prr_out, DeliveredData) + MSS):
// the window grows back like slow start, never past ssthresh.
func TestPRRSlowStartReductionBound(t *testing.T) {
	const mss = 1000
	var p prr
	p.start(20 * mss)
	// Heavy loss: pipe falls to 4 segments, well under ssthresh 10.
	if n := p.sndcnt(mss, 4*mss, 10*mss, mss); n != 2*mss {
		t.Fatalf("sndcnt %d, want DeliveredData + MSS = 2 segments", n)
	}
	p.sent(2 * mss)
	// An ACK delivering 3 segments: limit = max(4-2, 3) + 1 = 4.
	if n := p.sndcnt(3*mss, 3*mss, 10*mss, mss); n != 4*mss {
		t.Fatalf("sndcnt %d, want 4 segments", n)
	}
	p.sent(4 * mss)
	// Close to ssthresh: ssthresh - pipe bounds it.
	if n := p.sndcnt(5*mss, 9*mss, 10*mss, mss); n != mss {
		t.Fatalf("sndcnt %d, want ssthresh - pipe = 1 segment", n)
	}
	// A pipe above ssthresh after sending more than the proportion: 0.
	if n := p.sndcnt(0, 12*mss, 10*mss, mss); n != 0 {
		t.Fatalf("sndcnt %d, want 0", n)
	}
}
