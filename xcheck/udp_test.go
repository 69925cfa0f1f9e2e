package xcheck_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/threeway-tcp/threeway/wire"
)

// Our UDP datagrams are byte for byte what gopacket serializes (checksum
// included, RFC 768 with the IPv4 and IPv6 pseudo-headers), and gopacket's
// datagrams parse with our view.
func TestUDPMatchesGopacket(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		src, dst := src4, dst4
		if i%2 == 1 {
			src, dst = src6, dst6
		}
		sport, dport := uint16(r.UintN(65536)), uint16(r.UintN(65536))
		payload := make([]byte, r.IntN(1400))
		for j := range payload {
			payload[j] = byte(r.UintN(256))
		}
		ours := make([]byte, wire.UDPHeaderLen+len(payload))
		if wire.EncodeUDP(ours, src, dst, sport, dport, payload) != len(ours) {
			t.Fatal("EncodeUDP failed")
		}

		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		var nl gopacket.NetworkLayer
		if src.Is4() {
			nl = &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		} else {
			nl = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		}
		if err := u.SetNetworkLayerForChecksum(nl); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, u, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		theirs := buf.Bytes()
		// gopacket sends a zero sum as zero; RFC 768 wants all ones.
		if theirs[6] == 0 && theirs[7] == 0 {
			theirs[6], theirs[7] = 0xff, 0xff
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("%v -> %v: ours % x\ngopacket's % x", src, dst, ours[:8], theirs[:8])
		}
		v, err := wire.ParseUDP(src, dst, theirs)
		if err != nil || v.SrcPort() != sport || v.DstPort() != dport || !bytes.Equal(v.Payload(), payload) {
			t.Fatalf("gopacket's datagram: %v", err)
		}
		dec := gopacket.NewPacket(ours, layers.LayerTypeUDP, gopacket.Default)
		gu, _ := dec.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if gu == nil || uint16(gu.SrcPort) != sport || uint16(gu.DstPort) != dport || int(gu.Length) != len(ours) || !bytes.Equal(gu.Payload, payload) {
			t.Fatalf("gopacket decodes ours as %v", dec)
		}
	}
}
