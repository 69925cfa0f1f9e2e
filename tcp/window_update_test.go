package tcp

import "testing"

// RFC 9293 §3.8.6.2.2 with Linux's tcp_cleanup_rbuf rule: a read sends a
// window update only once the window the peer sees is at most half of
// what could now be advertised; smaller reads wait for the next ACK.
func TestWindowUpdateOnlyWhenWindowDoubles(t *testing.T) {
	c := connEstablished(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: pattern(0, 40000)})
	segs := recv(t, c)
	if len(segs) != 1 || segs[0].Window != testBuf-40000 {
		t.Fatalf("ACK of the data: %v", segs)
	}
	buf := make([]byte, 8000)
	c.Read(buf) // 32,000 free: less than twice the 24,000 the peer sees
	expect(t, recv(t, c))
	buf = make([]byte, 20000)
	c.Read(buf) // 52,000 free: at least twice 24,000
	segs = recv(t, c)
	if len(segs) != 1 || segs[0].Ack != rseq(40001) || segs[0].Window != testBuf-12000 {
		t.Fatalf("window update: %v", segs)
	}
}
