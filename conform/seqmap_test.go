package conform

import (
	"net/netip"
	"testing"
)

func netipAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestSeqMapPassive(t *testing.T) {
	var m seqMap
	// The script's SYN is absolute; the rest is relative to it.
	if got := m.inboundSeq(1000, true, false); got != 1000 {
		t.Fatalf("SYN seq %d", got)
	}
	if got := m.inboundSeq(1, false, true); got != 1001 {
		t.Fatalf("relative seq %d", got)
	}
	// The stack's ISN is learned from its SYN-ACK.
	if want := m.expectSeq(0, true, 0xfffffff0); want != 0xfffffff0 {
		t.Fatalf("SYN-ACK seq %#x", want)
	}
	if want := m.expectSeq(20, false, 0); want != 0x4 {
		t.Fatalf("wrapped relative seq %#x", want)
	}
	if got := m.inboundAck(1); got != 0xfffffff1 {
		t.Fatalf("inbound ack %#x", got)
	}
	if got := m.outboundAck(1); got != 1001 {
		t.Fatalf("outbound ack %d", got)
	}
	if got := m.relSeq(0x5); got != 21 {
		t.Fatalf("relSeq %d", got)
	}
	// A retransmitted SYN changes nothing; a new one makes the next
	// SYN-ACK teach a new ISN, but only a SYN does.
	m.inboundSeq(1000, true, false)
	if m.relearn {
		t.Fatal("retransmitted SYN started a new incarnation")
	}
	m.inboundSeq(900000, true, false)
	if want := m.expectSeq(0, false, 0); want != 0xfffffff0 {
		t.Fatalf("non-SYN relearned: %#x", want)
	}
	if want := m.expectSeq(0, true, 777); want != 777 || m.stackISN != 777 {
		t.Fatalf("new incarnation ISN %d", m.stackISN)
	}
}

func TestSeqMapTimestamps(t *testing.T) {
	var m seqMap
	if got := m.inboundEcr(55); got != 55 {
		t.Fatalf("ecr before any TS val: %d", got)
	}
	m.sawAnyTSVal(4000)
	if got := m.inboundEcr(55); got != 4000 {
		t.Fatalf("ecr echoes latest unwritten TS val: %d", got)
	}
	m.sawTSVal(100, 9100)
	m.sawTSVal(200, 9250)
	for _, c := range []struct{ script, want uint32 }{{0, 0}, {100, 9100}, {200, 9250}, {210, 9260}} {
		if got := m.inboundEcr(c.script); got != c.want {
			t.Errorf("ecr %d -> %d, want %d", c.script, got, c.want)
		}
	}
}

func TestOptionsRoundTripAndCompare(t *testing.T) {
	opts := []Option{{Kind: OptMSS, Val: 1460}, {Kind: OptSACKOK}, {Kind: OptTS, Val: 7, Ecr: 9}, {Kind: OptNOP}, {Kind: OptWScale, Val: 7}}
	b, err := encodeOptions(opts)
	if err != nil || len(b) != 20 {
		t.Fatalf("encode: %d bytes, %v", len(b), err)
	}
	back, err := parseRawOptions(b)
	if err != nil || optionsString(back) != optionsString(opts) {
		t.Fatalf("round trip %s, %v", optionsString(back), err)
	}
	var m seqMap
	// Set comparison ignores order and NOPs; strict does not.
	reordered := []Option{{Kind: OptNOP}, {Kind: OptNOP}, {Kind: OptTS, Val: 1, Ecr: 9}, {Kind: OptMSS, Val: 1460}, {Kind: OptWScale, Val: 7}, {Kind: OptSACKOK}}
	if d := compareOptions(opts, reordered, &m, false); d != "" {
		t.Errorf("set compare: %s", d)
	}
	if d := compareOptions(opts, reordered, &m, true); d == "" {
		t.Error("strict compare accepted a different order")
	}
	if d := compareOptions(opts, opts[:4], &m, false); d == "" {
		t.Error("missing wscale not noticed")
	}
	// TS ecr is compared, TS val is not.
	if d := compareOptions([]Option{{Kind: OptTS, Val: 1, Ecr: 2}}, []Option{{Kind: OptTS, Val: 99, Ecr: 3}}, &m, false); d == "" {
		t.Error("wrong ecr not noticed")
	}
}
