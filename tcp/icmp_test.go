package tcp

import (
	"testing"
)

// ICMP errors for a connection (icmp.go).

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
