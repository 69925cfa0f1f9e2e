package tcp

// Segmentation offload (Config.MaxSegment, OutSegment.SegSize) and large
// received segments (a GRO receiver's coalesced packets).

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

func gsoConfig() Config {
	cfg := testConfig()
	cfg.MaxSegment = 65536
	return cfg
}

// With MaxSegment the core sends what the window allows as one large
// segment of whole MSS-sized pieces, marked with SegSize = MSS; the rest
// that is not a whole MSS follows as an ordinary segment. Each large
// segment carries a PSH for its last piece, as Linux's TSO packets do;
// an ordinary segment only when it ends the data.
func TestLargeSegmentIsWholeMSSPieces(t *testing.T) {
	c := connEstablishedWith(t, gsoConfig())
	c.cong().SetCwnd(1 << 20)
	data := pattern(0, 10*testMSS+100)
	c.Write(data)
	c.Poll(c.now, &c.out)
	if len(c.out.Segs) != 1 {
		t.Fatalf("%d segments, want 1 large one", len(c.out.Segs))
	}
	o := c.out.Segs[0]
	if len(o.Seg.Payload) != len(data) || o.SegSize != testMSS || o.Seg.Flags != flagACK|flagPSH {
		t.Fatalf("payload %d segsize %d flags %v", len(o.Seg.Payload), o.SegSize, o.Seg.Flags)
	}
	c.out.Reset()

	// A window of 4.5 MSS: four whole pieces in one large segment; the
	// half piece waits (sender SWS avoidance). The large segment is
	// pushed all the same.
	c = connEstablishedWith(t, gsoConfig())
	c.cong().SetCwnd(1 << 20)
	c.sndWnd = 4*testMSS + testMSS/2
	c.Write(data)
	c.Poll(c.now, &c.out)
	if len(c.out.Segs) != 1 {
		t.Fatalf("%d segments, want 1", len(c.out.Segs))
	}
	if o := c.out.Segs[0]; len(o.Seg.Payload) != 4*testMSS || o.SegSize != testMSS || o.Seg.Flags != flagACK|flagPSH {
		t.Fatalf("payload %d segsize %d flags %v", len(o.Seg.Payload), o.SegSize, o.Seg.Flags)
	}
}

// A large segment's IP packet stays within 65,535 bytes: the core stops
// at the last whole MSS below maxLargePayload.
func TestLargeSegmentCappedAt64KiB(t *testing.T) {
	cfg := gsoConfig()
	cfg.SendBuffer = 1 << 20
	cfg.MaxSegment = 1 << 20
	c := connEstablishedWith(t, cfg)
	c.cong().SetCwnd(1 << 20)
	c.sndWnd, c.maxSndWnd = 1<<20, 1<<20
	c.Write(pattern(0, 200000))
	c.Poll(c.now, &c.out)
	want := maxLargePayload - maxLargePayload%testMSS
	if got := len(c.out.Segs[0].Seg.Payload); got != want {
		t.Fatalf("first segment %d bytes, want %d", got, want)
	}
	for _, o := range c.out.Segs {
		if len(o.Seg.Payload) > want || len(o.Seg.Payload) > testMSS && o.SegSize != testMSS {
			t.Fatalf("segment of %d bytes, segsize %d", len(o.Seg.Payload), o.SegSize)
		}
	}
}

// Without MaxSegment nothing changes: one MSS per segment, no SegSize.
func TestNoMaxSegmentSendsMSS(t *testing.T) {
	c := connEstablished(t)
	c.cong().SetCwnd(1 << 20)
	c.Write(pattern(0, 5*testMSS))
	c.Poll(c.now, &c.out)
	if len(c.out.Segs) != 5 {
		t.Fatalf("%d segments, want 5", len(c.out.Segs))
	}
	for _, o := range c.out.Segs {
		if len(o.Seg.Payload) != testMSS || o.SegSize != 0 {
			t.Fatalf("segment %d bytes segsize %d", len(o.Seg.Payload), o.SegSize)
		}
	}
}

// RFC 6298 §5.4 and RFC 5681 §3.2: what is retransmitted is one MSS at a
// time, even inside what was first sent as a large segment: after a
// timeout, and on a fast retransmit.
func TestRetransmissionInsideLargeSegmentIsPerMSS(t *testing.T) {
	c := connEstablishedWith(t, gsoConfig())
	c.cong().SetCwnd(1 << 20)
	c.Write(pattern(0, 8*testMSS))
	c.Poll(c.now, &c.out)
	if len(c.out.Segs) != 1 || len(c.out.Segs[0].Seg.Payload) != 8*testMSS {
		t.Fatalf("first flight: %d segments", len(c.out.Segs))
	}
	c.out.Reset()
	// The whole large segment was lost: the RTO resends one MSS.
	c.now = c.Deadline()
	segs := recv(t, c)
	if len(segs) != 1 || segs[0].Seq != c.lseq(1) || len(segs[0].Payload) != testMSS {
		t.Fatalf("after RTO: %d segments, first %v", len(segs), fmtSeg(&segs[0]))
	}
	// The peer acknowledges it; slow start resends the next pieces, each
	// still one MSS (they lie below SND.MAX).
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + testMSS), Flags: flagACK, Window: remoteWin})
	for _, s := range recv(t, c) {
		if len(s.Payload) > testMSS {
			t.Fatalf("retransmission of %d bytes", len(s.Payload))
		}
	}

	// Fast retransmit after three duplicate ACKs: one MSS from SND.UNA.
	c = connEstablishedWith(t, gsoConfig())
	c.cong().SetCwnd(1 << 20)
	c.Write(pattern(0, 20*testMSS))
	recv(t, c)
	for i := 0; i < 3; i++ {
		send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin})
	}
	segs = recv(t, c)
	if len(segs) == 0 || segs[0].Seq != c.lseq(1) || len(segs[0].Payload) != testMSS {
		t.Fatalf("fast retransmit: %v", segs)
	}
}

// A coalesced segment (GRO: the kernel hands over many segments as one)
// is accepted whole, even far beyond our MSS, and acknowledged at once:
// one ACK for the segments it stands for, as each of them would have
// drawn one (RFC 5681 §4.2 asks for one at least every second).
func TestCoalescedSegmentAcceptedAndAcked(t *testing.T) {
	c := connEstablished(t)
	data := pattern(0, 40*testMSS) // 58,400 bytes, within the 64,000 window
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK | flagPSH, Window: remoteWin, Payload: data})
	segs := recv(t, c)
	if len(segs) != 1 || segs[0].Ack != rseq(1+len(data)) || segs[0].Flags != flagACK {
		t.Fatalf("want one ACK of everything, got %d segments", len(segs))
	}
	buf := make([]byte, len(data))
	if n, _ := c.Read(buf); n != len(data) || string(buf) != string(data) {
		t.Fatalf("read %d bytes", n)
	}
	if got := seqnum.Size(len(data)); c.rcvNxt != rseq(1).Add(got) {
		t.Fatalf("rcvNxt %v", fmtSeq(c.rcvNxt))
	}
}

// Without SACK, three duplicate ACKs say one segment left the network:
// fast retransmit resends the first MSS of a large segment, not all of
// it (RFC 5681 §3.2 step 3; packetdrill's fast_retransmit/fr-4pkt).
func TestFastRetransmitOfLargeSegmentIsOneMSS(t *testing.T) {
	c := connEstablishedWith(t, gsoConfig())
	c.Write(pattern(0, 4*testMSS))
	if segs := recv(t, c); len(segs) != 1 || len(segs[0].Payload) != 4*testMSS {
		t.Fatalf("sent %d segments, want one large one", len(segs))
	}
	dup := Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin}
	for range 3 {
		send(t, c, dup)
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(0, testMSS)})
	c.now += 50 * time.Millisecond
	expect(t, recv(t, c)) // nothing more until an ACK says more is missing
}
