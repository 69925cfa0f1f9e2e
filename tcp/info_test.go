package tcp

import (
	"strings"
	"testing"
)

// Info follows a connection's byte counts, flight and window through a
// write, its ACK, data received and a FIN each way.
func TestInfoCountsBytesAndSegments(t *testing.T) {
	c := connEstablished(t)
	in := c.Info()
	if in.State != Established || in.BytesSent != 0 || in.BytesAcked != 0 || in.Unacked != 0 {
		t.Fatalf("fresh: %+v", in)
	}
	// RFC 6928 initial window, in segments; ssthresh "arbitrarily high".
	if in.Cwnd != 10 || in.SSThresh != InfiniteSSThresh || in.SendMSS != remoteMSS || in.CAState != CAOpen {
		t.Fatalf("fresh congestion state: %+v", in)
	}

	c.Write(make([]byte, 3000))
	recv(t, c)
	in = c.Info()
	if in.BytesSent != 3000 || in.BytesAcked != 0 || in.Unacked != 3 || in.SendQueued != 3000 || in.NotSent != 0 {
		t.Fatalf("after sending 3000 bytes: %+v", in)
	}
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1461), Flags: flagACK, Window: remoteWin})
	in = c.Info()
	if in.BytesAcked != 1460 || in.Unacked != 2 || in.SendQueued != 1540 || in.SendWindow != remoteWin {
		t.Fatalf("after an ACK of 1460: %+v", in)
	}

	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(3001), Flags: flagACK | flagPSH, Window: remoteWin, Payload: make([]byte, 700)})
	recv(t, c)
	in = c.Info()
	if in.BytesReceived != 700 || in.RecvQueued != 700 || in.BytesAcked != 3000 || in.Unacked != 0 {
		t.Fatalf("after 700 bytes in and everything acked: %+v", in)
	}
	if in.RecvWindow != testBuf-700 {
		t.Errorf("receive window %d, want %d", in.RecvWindow, testBuf-700)
	}

	// FINs take sequence space, not bytes.
	send(t, c, Segment{Seq: rseq(701), Ack: c.lseq(3001), Flags: flagACK | flagFIN, Window: remoteWin})
	c.CloseWrite(c.now)
	recv(t, c)
	send(t, c, Segment{Seq: rseq(702), Ack: c.lseq(3002), Flags: flagACK, Window: remoteWin})
	in = c.Info()
	if in.BytesReceived != 700 || in.BytesSent != 3000 || in.BytesAcked != 3000 {
		t.Fatalf("after both FINs: %+v", in)
	}
	if s := in.String(); !strings.Contains(s, "bytes_sent:3000") || !strings.Contains(s, "mss:1460") {
		t.Errorf("ss-style line %q", s)
	}
}

// Unsent data counts as NotSent until the window lets it out.
func TestInfoNotSentBehindZeroWindow(t *testing.T) {
	c := connEstablished(t)
	c.sndWnd = 1460
	c.Write(make([]byte, 2500))
	recv(t, c)
	in := c.Info()
	if in.BytesSent != 1460 || in.NotSent != 1040 || in.SendQueued != 2500 {
		t.Fatalf("%+v", in)
	}
}

// A SYN-SENT connection has sent no data and received none.
func TestInfoSynSent(t *testing.T) {
	c := connSynSent(t)
	in := c.Info()
	if in.State != SynSent || in.BytesSent != 0 || in.BytesReceived != 0 || in.RTO == 0 {
		t.Fatalf("%+v", in)
	}
}
