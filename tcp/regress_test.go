package tcp

import (
	"testing"
	"time"
)

// Text at RCV.NXT is accepted even when the out-of-order block list is
// full: it needs no new block (RFC 9293 §3.10.7.4).
func TestInOrderTextAcceptedWithFullReassembly(t *testing.T) {
	c := connEstablished(t)
	for k := 0; k < maxOOORanges; k++ {
		off := 2000 + 200*k
		send(t, c, Segment{Seq: rseq(off), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(off-1, 100)})
	}
	recv(t, c)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(0, 1000)})
	recv(t, c)
	if c.rcvNxt != rseq(1001) || c.Readable() != 1000 {
		t.Fatalf("rcvNxt %s, readable %d: in-order text dropped", fmtSeq(c.rcvNxt), c.Readable())
	}
}

// A packet-too-big MTU beyond 16 bits (ICMPv6 carries 32) never wraps the
// send MSS (RFC 8201 §4: the path MTU only ever lowers it).
func TestPacketTooBigHugeMTUIgnored(t *testing.T) {
	c := connEstablished(t)
	c.Write(make([]byte, 5000))
	recv(t, c)
	before := c.sndMSS
	for _, mtu := range []int{65536 + 60, 65596, 1 << 31} {
		if c.ICMPError(c.now, ICMPPacketTooBig, c.lseq(1), mtu, 0) || c.sndMSS != before {
			t.Fatalf("MTU %d changed the send MSS to %d", mtu, c.sndMSS)
		}
	}
	if !c.ICMPError(c.now, ICMPPacketTooBig, c.lseq(1), 1000, 0) || c.sndMSS != 960 {
		t.Fatalf("MTU 1000: send MSS %d, want 960", c.sndMSS)
	}
	for _, s := range recv(t, c) {
		if len(s.Payload) > 960 {
			t.Fatalf("segment of %d bytes after the MSS fell to 960", len(s.Payload))
		}
	}
}

// After a zero-window probe took SND.NXT past the peer's window, a pure
// ACK carries the window's edge as its sequence number, so the peer's
// acceptability test lets it in.
func TestAckAfterProbeStaysInPeerWindow(t *testing.T) {
	c := connEstablished(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 0})
	c.Write([]byte("hello"))
	recv(t, c)
	c.now += 10 * time.Second
	if probe := recv(t, c); len(probe) != 1 || len(probe[0].Payload) != 1 {
		t.Fatalf("no one-octet probe: %v", probe)
	}
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 0, Payload: []byte("abc")})
	if a := recv(t, c); len(a) == 0 || a[0].Seq != c.lseq(1) || a[0].Ack != rseq(4) {
		t.Fatalf("ACK %v, want seq L+1 ack R+4", a)
	}
}

// The final ACK of a SYN-cookie handshake is cut to the receive window
// like any segment: a large one cannot overrun the buffer.
func TestCookieAckTextTrimmedToWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RecvBuffer = 4096
	l, _ := cookieListener(cfg)
	sa := cookieSynAck(t, l, testTuple, 0, peerSYN)
	ack := finalAck(sa, false, make([]byte, 9000))
	var out Output
	c := l.Input(time.Millisecond, testTuple, &ack, &out)
	if c == nil {
		t.Fatal("cookie rejected")
	}
	if c.Readable() > 4096 || c.rcv.free() < 0 {
		t.Fatalf("readable %d, free %d: the buffer overran", c.Readable(), c.rcv.free())
	}
}

// A CLOSE in SYN-RECEIVED (here after a simultaneous open whose SYN
// carried text) sends the FIN; the ACK that follows still completes the
// handshake, so the SYN's text becomes readable.
func TestCloseInSynReceivedThenHandshakeCompletes(t *testing.T) {
	c := connSynSent(t)
	syn := peerSYN
	syn.Payload = []byte("xyz")
	send(t, c, syn)
	recv(t, c)
	c.CloseWrite(c.now)
	recv(t, c)
	c.TakeEvents()
	send(t, c, Segment{Seq: rseq(4), Ack: c.lseq(2), Flags: flagACK, Window: remoteWin})
	recv(t, c)
	expectState(t, c, FinWait2)
	if ev := c.TakeEvents(); ev&EvEstablished == 0 || c.Readable() != 3 {
		t.Fatalf("events %b, readable %d: the handshake did not complete", ev, c.Readable())
	}
}

// A cookie sent without timestamps stays without them even if the final
// ACK carries a timestamp whose echo happens to end in the "none" marker
// (RFC 7323 §3.2: timestamps need both SYNs).
func TestCookieWithoutTimestampsIgnoresLaterTSopt(t *testing.T) {
	l, _ := cookieListener(DefaultConfig())
	sa := cookieSynAck(t, l, testTuple, 0, peerSYN)
	ack := finalAck(sa, true, nil)
	ack.Options.TSEcr = 0x1234_003f
	var out Output
	c := l.Input(time.Millisecond, testTuple, &ack, &out)
	if c == nil {
		t.Fatal("cookie rejected")
	}
	if n := c.Negotiated(); n.Timestamps || n.SACK || n.WindowScale {
		t.Fatalf("options appeared that no SYN-ACK offered: %+v", n)
	}
}
