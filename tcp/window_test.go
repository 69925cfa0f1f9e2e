package tcp

// The window advertised is the window checked (window.go): RCV.ADV is the
// right edge the peer was told, RCV.NXT + (window field << Rcv.Wind.Shift)
// at its furthest, and the acceptability test, the RST check and trimming
// all use it (RFC 9293 §3.10.7.4, RFC 5961 §3, RFC 7323 §2.3-2.4).

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// Without window scaling the header says at most 65,535, however large
// the buffer: a RST or data past RCV.NXT+65,535 is outside the window,
// not a target four times what the peer was told.
func TestWindowCheckedIsWindowAdvertisedUnscaled(t *testing.T) {
	cfg := testConfig()
	cfg.RecvBuffer = 256 << 10
	c, _ := handshake(t, cfg, mssOpt(remoteMSS), remoteWin)
	expect(t, recv(t, c), fromUs.win(65535))
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(1 + 70000), Flags: flagRST})
	send(t, c, Segment{Seq: rseq(1 + 65535), Flags: flagRST})
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropRSTOutOfWindow, 2)
	send(t, c, Segment{Seq: rseq(1 + 65534), Flags: flagRST})
	expect(t, recv(t, c), fromUs.win(65535))
	expectDrop(t, c.env, before, DropRSTChallenged, 1)
	// Text is trimmed at the advertised edge, not the buffer's.
	c.now += c.env.Config.InvalidRateLimit
	send(t, c, fromPeer.seq(rseq(1+65000)).data(pattern(0, 1000)))
	recv(t, c)
	if c.rcv.n != 0 || c.rcvAdv != rseq(1+65535) {
		t.Fatalf("RCV.ADV %v (want %v)", c.rcvAdv, rseq(1+65535))
	}
	send(t, c, fromPeer.data(pattern(0, 65000)))
	expect(t, recv(t, c), fromUs.ack(rseq(1+65535)).win(65535))
	if c.Readable() != 65535 {
		t.Fatalf("readable %d: the text past the advertised edge was kept", c.Readable())
	}
}

// With window scaling, the edge is what the scaled field says: every ACK's
// SEG.ACK + (SEG.WND << shift) is at or short of RCV.ADV by less than the
// scale's granularity (RFC 7323 §2.4: the edge told earlier stays in
// force), never beyond it, and RCV.ADV never passes the buffer.
func TestWindowCheckedIsWindowAdvertisedScaled(t *testing.T) {
	cfg := testConfig()
	cfg.NoWindowScaling = false
	cfg.RecvBuffer = 1 << 20
	c, syn := handshake(t, cfg, wire.Options{HasMSS: true, MSS: remoteMSS, HasWScale: true, WScale: 2}, remoteWin)
	if !syn.Options.HasWScale || syn.Options.WScale == 0 {
		t.Fatalf("SYN offered %+v", syn.Options)
	}
	shift := syn.Options.WScale
	gran := seqnum.Size(1) << shift
	recv(t, c)
	next := 0
	buf := make([]byte, 1<<20)
	for i := 0; i < 400; i++ {
		n := (i*389)%1460 + 1
		send(t, c, fromPeer.seq(rseq(1+next)).data(pattern(next, n)))
		next += n
		if i%5 == 0 {
			c.Read(buf[:(i*7919)%40000])
		}
		for _, s := range recv(t, c) {
			edge := s.Ack.Add(seqnum.Size(s.Window) << shift)
			if edge.GreaterThan(c.rcvAdv) || edge.Size(c.rcvAdv) >= gran {
				t.Fatalf("step %d: advertised edge %v, checked edge %v", i, edge, c.rcvAdv)
			}
		}
		if w := int(c.rcvNxt.Size(c.rcvAdv)); w > c.rcv.free() || w > 65535<<shift {
			t.Fatalf("step %d: window %d, free %d", i, w, c.rcv.free())
		}
	}
}

// After a zero-window probe took SND.NXT past the peer's window, a pure
// ACK carries the window's edge as its sequence number, so the peer's
// acceptability test lets it in.
func TestAckAfterProbeStaysInPeerWindow(t *testing.T) {
	c := connEstablished(t)
	send(t, c, fromPeer.win(0))
	c.Write([]byte("hello"))
	recv(t, c)
	c.now += 10 * time.Second
	if probe := recv(t, c); len(probe) != 1 || len(probe[0].Payload) != 1 {
		t.Fatalf("no one-octet probe: %v", probe)
	}
	send(t, c, fromPeer.win(0).payload("abc"))
	if a := recv(t, c); len(a) == 0 || a[0].Seq != c.lseq(1) || a[0].Ack != rseq(4) {
		t.Fatalf("ACK %v, want seq L+1 ack R+4", a)
	}
}

// A peer's scaled window rounds its right edge down to a unit of its
// shift (RFC 7323 §2.3): an edge that falls short of SND.NXT by less than
// that is rounding, and a pure ACK still carries SND.NXT. Numbered at the
// edge it would fall below the peer's RCV.NXT and be dropped with its
// acknowledgment (the offload bulk test hung that way, both ends
// retransmitting data the other had, neither taking the other's ACKs).
func TestAckSeqIgnoresWindowScaleRounding(t *testing.T) {
	c := connEstablished(t)
	c.sndShift = 3
	c.Write(pattern(0, 100))
	recv(t, c)
	// The peer has taken 96 bytes; its window's edge is 4 bytes short of
	// SND.NXT, less than one unit of 8.
	send(t, c, fromPeer.ack(c.lseq(1+96)).win(0).payload("abc"))
	if a := recv(t, c); len(a) == 0 || a[0].Seq != c.lseq(101) || a[0].Ack != rseq(4) {
		t.Fatalf("ACK %v, want seq L+101 (SND.NXT) ack R+4", a)
	}
}
