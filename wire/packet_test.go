package wire

import (
	"bytes"
	"testing"
)

func ipv6Packet(payload []byte, tclass uint8, flow uint32) []byte {
	b := make([]byte, IPv6HeaderLen+len(payload))
	f := IPv6Fields{Src: v6a, Dst: v6b, NextHeader: ProtoUDP, HopLimit: 9, PayloadLen: len(payload), TrafficClass: tclass, FlowLabel: flow}
	EncodeIPv6(b, &f)
	copy(b[IPv6HeaderLen:], payload)
	return b
}

// TestIPPacketBothVersions reads one field set through the version-free
// view and checks it against the version's own view.
func TestIPPacketBothVersions(t *testing.T) {
	payload := []byte("12345678abc")
	v4 := ipv4Packet(6, 0, payload, 3) // one option word, link padding after
	p, err := ParseIPPacket(v4)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != 4 || p.Src() != v4a || p.Dst() != v4b || p.Protocol() != ProtoTCP ||
		p.HopLimit() != 63 || p.TrafficClass() != 0xb8 || p.ECN() != 0 || p.FlowLabel() != 0 ||
		p.IsFragment() || len(p.Header()) != 24 || !bytes.Equal(p.Payload(), payload) ||
		len(p.Bytes()) != 24+len(payload) || p.IPv4().HeaderLen() != 24 {
		t.Errorf("IPv4 view: version %d %v>%v proto %d hop %d tc %#x header %d payload %q",
			p.Version(), p.Src(), p.Dst(), p.Protocol(), p.HopLimit(), p.TrafficClass(), len(p.Header()), p.Payload())
	}
	frag, _ := ParseIPPacket(ipv4Packet(5, 0x2000, payload, 0))
	if !frag.IsFragment() {
		t.Error("MF set: IsFragment = false")
	}

	v6 := ipv6Packet(payload, 0x2b, 0xabcde)
	p, err = ParseIPPacket(append(v6, 0, 0)) // padding trimmed
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != 6 || p.Src() != v6a || p.Dst() != v6b || p.Protocol() != ProtoUDP ||
		p.HopLimit() != 9 || p.TrafficClass() != 0x2b || p.ECN() != 3 || p.FlowLabel() != 0xabcde ||
		p.IsFragment() || len(p.Header()) != IPv6HeaderLen || !bytes.Equal(p.Payload(), payload) ||
		p.IPv6().PayloadLen() != len(payload) {
		t.Errorf("IPv6 view: version %d %v>%v proto %d hop %d tc %#x flow %#x payload %q",
			p.Version(), p.Src(), p.Dst(), p.Protocol(), p.HopLimit(), p.TrafficClass(), p.FlowLabel(), p.Payload())
	}
}

func TestParseIPPacketErrors(t *testing.T) {
	v4 := ipv4Packet(5, 0, []byte("x"), 0)
	bad := bytes.Clone(v4)
	bad[10] ^= 1
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"empty", nil, ErrIPVersion},
		{"version 5", []byte{0x50, 0, 0, 0}, ErrIPVersion},
		{"short v4", v4[:19], ErrIPv4Short},
		{"v4 checksum", bad, ErrIPv4Checksum},
		{"short v6", ipv6Packet(nil, 0, 0)[:39], ErrIPv6Short},
		{"v6 payload past end", ipv6Packet([]byte("abcd"), 0, 0)[:42], ErrIPv6PayloadLen},
	}
	for _, tt := range tests {
		if _, err := ParseIPPacket(tt.in); err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

// TestParseQuotedIP takes the invoking packets ICMP errors carry: cut
// after 8 bytes of TCP, with a total length that no longer matches.
func TestParseQuotedIP(t *testing.T) {
	tcpHead := []byte{0x1f, 0x90, 0x00, 0x50, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff}
	v4 := ipv4Packet(5, 0, tcpHead, 0)[:28]
	p, err := ParseQuotedIP(v4)
	if err != nil {
		t.Fatal(err)
	}
	sp, dp, seq, ok := TCPQuote(p.Payload())
	if p.Src() != v4a || p.Protocol() != ProtoTCP || !ok || sp != 8080 || dp != 80 || seq != 0xdeadbeef {
		t.Errorf("v4 quote: %v proto %d ports %d>%d seq %#x ok %v", p.Src(), p.Protocol(), sp, dp, seq, ok)
	}
	v6 := ipv6Packet(tcpHead, 0, 0)[:IPv6HeaderLen+8]
	if p, err = ParseQuotedIP(v6); err != nil || p.Dst() != v6b {
		t.Errorf("v6 quote: %v, %v", p.Dst(), err)
	}
	for name, in := range map[string][]byte{
		"v4 without 8 bytes": v4[:27],
		"v6 without 8 bytes": v6[:IPv6HeaderLen+7],
		"v4 IHL 4":           append([]byte{0x44}, v4[1:]...),
		"garbage":            {0xff},
		"short v4":           v4[:10],
	} {
		if _, err := ParseQuotedIP(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, _, ok := TCPQuote(tcpHead[:7]); ok {
		t.Error("TCPQuote of 7 bytes: ok")
	}
}

func TestIPPacketAllocs(t *testing.T) {
	pkt := ipv6Packet([]byte("payload"), 0, 0)
	if n := testing.AllocsPerRun(100, func() {
		p, _ := ParseIPPacket(pkt)
		_, _ = p.Src(), p.Payload()
	}); n != 0 {
		t.Errorf("ParseIPPacket allocates %v times", n)
	}
}

// FuzzParseIPPacket checks that the view agrees with the version's own
// parser on every input, and that a quote never panics.
func FuzzParseIPPacket(f *testing.F) {
	f.Add(ipv4Packet(5, 0, []byte("hello"), 0))
	f.Add(ipv6Packet([]byte("hello"), 1, 2))
	f.Add([]byte{0x45})
	f.Fuzz(func(t *testing.T, data []byte) {
		if q, err := ParseQuotedIP(data); err == nil {
			_, _, _ = q.Src(), q.Dst(), q.Protocol()
			TCPQuote(q.Payload())
		}
		p, err := ParseIPPacket(data)
		switch IPVersion(data) {
		case 4:
			ip, err4 := ParseIPv4(data)
			if err != err4 || (err == nil && (!bytes.Equal(p.Bytes(), ip) || !bytes.Equal(p.Payload(), ip.Payload()) || p.Src() != ip.Src())) {
				t.Fatalf("v4: view %v, ParseIPv4 %v", err, err4)
			}
		case 6:
			ip, err6 := ParseIPv6(data)
			if err != err6 || (err == nil && (!bytes.Equal(p.Bytes(), ip) || !bytes.Equal(p.Payload(), ip.Payload()) || p.Dst() != ip.Dst())) {
				t.Fatalf("v6: view %v, ParseIPv6 %v", err, err6)
			}
		default:
			if err != ErrIPVersion {
				t.Fatalf("version %d: err %v", IPVersion(data), err)
			}
		}
	})
}
