package tcp

import (
	"testing"

	"github.com/threeway-tcp/threeway/seqnum"
)

// sbWith returns a scoreboard holding n segments of size octets from base.
func sbWith(base seqnum.Value, n, size int) *scoreboard {
	sb := &scoreboard{}
	for i := 0; i < n; i++ {
		s := base.Add(seqnum.Size(i * size))
		sb.sent(s, s.Add(seqnum.Size(size)), false, 0, s)
	}
	return sb
}

func expectBoard(t *testing.T, sb *scoreboard, pipe, sacked, lost uint32) {
	t.Helper()
	if sb.pipe != pipe || sb.sacked != sacked || sb.lost != lost {
		t.Fatalf("pipe %d sacked %d lost %d, want %d %d %d", sb.pipe, sb.sacked, sb.lost, pipe, sacked, lost)
	}
	// The running totals must match a walk (RFC 6675 §4 SetPipe).
	var p, s, l uint32
	for _, seg := range sb.live() {
		if seg.flags.inPipe() {
			p += seg.len()
		}
		if seg.flags&segSACKed != 0 {
			s += seg.len()
		}
		if seg.flags&(segSACKed|segLost|segRetrans) == segLost {
			l += seg.len()
		}
	}
	if p != pipe || s != sacked || l != lost {
		t.Fatalf("walk gives pipe %d sacked %d lost %d", p, s, l)
	}
}

// RFC 6675 §4 Update() and SetPipe(): SACKed segments leave the pipe, a
// block covering part of a segment marks exactly that part, lost
// segments leave the pipe until retransmitted, and the cumulative ACK
// takes segments off.
func TestScoreboardUpdateAndPipe(t *testing.T) {
	base := seqnum.Value(1 << 31)
	sb := sbWith(base, 5, 1000)
	expectBoard(t, sb, 5000, 0, 0)
	n := 0
	sb.markSACKed(base.Add(2000), base.Add(4000), func(*txSeg) { n++ })
	if n != 2 || sb.highSACK != base.Add(4000) {
		t.Fatalf("%d newly SACKed, highSACK %v", n, sb.highSACK)
	}
	expectBoard(t, sb, 3000, 2000, 0)
	// A repeated block is no news.
	n = 0
	sb.markSACKed(base.Add(2000), base.Add(4000), func(*txSeg) { n++ })
	if n != 0 {
		t.Fatalf("%d newly SACKed by a repeat", n)
	}
	// Part of the last segment: the segment is split at the block edge.
	sb.markSACKed(base.Add(4500), base.Add(5000), func(*txSeg) {})
	expectBoard(t, sb, 2500, 2500, 0)
	if len(sb.live()) != 6 {
		t.Fatalf("%d segments after a split, want 6", len(sb.live()))
	}
	sb.markLost(sb.head + 1) // [1000, 2000)
	expectBoard(t, sb, 1500, 2500, 1000)
	if k := sb.nextLost(); k != sb.head+1 {
		t.Fatalf("NextSeg rule 1 gives %d", k)
	}
	sb.sent(base.Add(1000), base.Add(2000), false, 5, base.Add(5000)) // the retransmission
	expectBoard(t, sb, 2500, 2500, 0)
	if sb.nextLost() != -1 || sb.segs[sb.head+1].flags&segEverRetrans == 0 {
		t.Fatal("retransmitted segment still wants sending")
	}
	acked := 0
	sb.ackTo(base.Add(3000), func(s *txSeg) { acked++ })
	if acked != 3 {
		t.Fatalf("%d segments acked", acked)
	}
	expectBoard(t, sb, 500, 1500, 0)
	sb.ackTo(base.Add(5000), func(*txSeg) {})
	if !sb.empty() {
		t.Fatal("segments left after a full ACK")
	}
	expectBoard(t, sb, 0, 0, 0)
}

// RFC 6675 §4 IsLost(): a segment is lost once DupThresh discontiguous
// SACKed segments lie above it, or more than (DupThresh-1)*SMSS octets.
func TestScoreboardIsLost(t *testing.T) {
	base := seqnum.Value(100)
	sb := sbWith(base, 6, 1000)
	// Segments 2 and 4 SACKed: two above segment 1, not yet enough.
	sb.markSACKed(base.Add(2000), base.Add(3000), func(*txSeg) {})
	sb.markSACKed(base.Add(4000), base.Add(5000), func(*txSeg) {})
	if sb.markIsLost(3, 1000) {
		t.Fatal("lost with two SACKed segments above")
	}
	// A third: segments 0, 1 (three above) and 3 (one above)...
	sb.markSACKed(base.Add(5000), base.Add(6000), func(*txSeg) {})
	if !sb.markIsLost(3, 1000) {
		t.Fatal("not lost with three SACKed segments above")
	}
	l := sb.live()
	if l[0].flags&segLost == 0 || l[1].flags&segLost == 0 || l[3].flags&segLost != 0 {
		t.Fatalf("lost marks %v %v %v", l[0].flags, l[1].flags, l[3].flags)
	}
	// By octets: 2001 SACKed octets above in small pieces exceed
	// (3-1)*1000 even as one segment... here one 2500-octet segment.
	sb = &scoreboard{}
	sb.sent(base, base.Add(1000), false, 0, base)
	sb.sent(base.Add(1000), base.Add(3500), false, 0, base.Add(1000))
	sb.markSACKed(base.Add(1000), base.Add(3500), func(*txSeg) {})
	if !sb.markIsLost(3, 1000) || sb.live()[0].flags&segLost == 0 {
		t.Fatal("2500 SACKed octets above did not make the segment lost")
	}
}

// After a timeout every un-SACKed segment is lost (RFC 6675 §5.1); with
// reneging suspected the SACK marks go too (RFC 2018 §8).
func TestScoreboardMarkAllLost(t *testing.T) {
	base := seqnum.Value(0xFFFFF000) // across the wrap
	sb := sbWith(base, 4, 1460)
	sb.markSACKed(base.Add(1460), base.Add(2920), func(*txSeg) {})
	sb.markAllLost(false, false)
	expectBoard(t, sb, 0, 1460, 3*1460)
	sb.markAllLost(true, false)
	expectBoard(t, sb, 0, 0, 4*1460)
}
