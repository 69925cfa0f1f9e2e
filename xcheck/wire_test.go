package xcheck_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	src4 = netip.MustParseAddr("192.0.2.10")
	dst4 = netip.MustParseAddr("198.51.100.20")
	src6 = netip.MustParseAddr("2001:db8:1::10")
	dst6 = netip.MustParseAddr("2001:db8:2::20")
)

// flagBits pairs each wire flag with gopacket's boolean for it.
func flagBits(t *layers.TCP) []struct {
	f wire.Flags
	b *bool
} {
	return []struct {
		f wire.Flags
		b *bool
	}{
		{wire.FlagFIN, &t.FIN}, {wire.FlagSYN, &t.SYN}, {wire.FlagRST, &t.RST},
		{wire.FlagPSH, &t.PSH}, {wire.FlagACK, &t.ACK}, {wire.FlagURG, &t.URG},
		{wire.FlagECE, &t.ECE}, {wire.FlagCWR, &t.CWR},
	}
}

func gpFlags(t *layers.TCP) wire.Flags {
	var f wire.Flags
	for _, fb := range flagBits(t) {
		if *fb.b {
			f |= fb.f
		}
	}
	return f
}

func setGPFlags(t *layers.TCP, f wire.Flags) {
	for _, fb := range flagBits(t) {
		*fb.b = f.Has(fb.f)
	}
}

// gpOptions reads gopacket's decoded option list the way RFC 9293 §3.2,
// RFC 7323 and RFC 2018 define the known kinds: later copies win, others
// are skipped. ok is false if a known kind has the wrong length.
func gpOptions(opts []layers.TCPOption) (o wire.Options, ok bool) {
	for _, op := range opts {
		d := op.OptionData
		switch op.OptionType {
		case layers.TCPOptionKindMSS:
			if len(d) != 2 {
				return o, false
			}
			o.HasMSS, o.MSS = true, binary.BigEndian.Uint16(d)
		case layers.TCPOptionKindWindowScale:
			if len(d) != 1 {
				return o, false
			}
			o.HasWScale, o.WScale = true, d[0]
		case layers.TCPOptionKindSACKPermitted:
			if len(d) != 0 {
				return o, false
			}
			o.SACKPermitted = true
		case layers.TCPOptionKindTimestamps:
			if len(d) != 8 {
				return o, false
			}
			o.HasTimestamps = true
			o.TSVal, o.TSEcr = binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
		case layers.TCPOptionKindSACK:
			if len(d) == 0 || len(d)%8 != 0 || len(d) > 32 {
				return o, false
			}
			o.NumSACK = len(d) / 8
			o.SACK = [4]wire.SACKBlock{}
			for i := 0; i < o.NumSACK; i++ {
				o.SACK[i] = wire.SACKBlock{Start: binary.BigEndian.Uint32(d[8*i:]), End: binary.BigEndian.Uint32(d[8*i+4:])}
			}
		case 34: // TCP Fast Open (RFC 7413 §4.1.1): a cookie of 0 or an even 4..16 bytes
			if !o.SetFastOpen(d, false) {
				o.FastOpenBad = true
			}
		}
	}
	return o, true
}

// encodedOptions is what o looks like after Encode: SACK blocks that did
// not fit in 40 bytes are dropped from the end.
func encodedOptions(o wire.Options) wire.Options {
	z := o
	z.NumSACK = 0
	fixed := z.Len()
	k := 0
	if n := o.Len(); n > fixed {
		k = (n - fixed - 4) / 8
	}
	o.NumSACK = k
	for i := k; i < len(o.SACK); i++ {
		o.SACK[i] = wire.SACKBlock{}
	}
	return o
}

// optionCases covers each option alone, the Linux SYN and data layouts,
// and SACK with 1 to 4 blocks next to timestamps.
func optionCases() []*wire.Options {
	blocks := [4]wire.SACKBlock{{Start: 100, End: 200}, {Start: 300, End: 400}, {Start: 0xfffffff0, End: 0x10}, {Start: 7, End: 9}}
	cases := []*wire.Options{
		nil,
		{},
		{HasMSS: true, MSS: 1460},
		{HasMSS: true, MSS: 0xffff},
		{HasWScale: true, WScale: 14},
		{SACKPermitted: true},
		{HasTimestamps: true, TSVal: 0xdeadbeef, TSEcr: 0},
		{HasMSS: true, MSS: 1440, SACKPermitted: true, HasTimestamps: true, TSVal: 1, TSEcr: 2, HasWScale: true, WScale: 7},
		{HasMSS: true, MSS: 536, HasWScale: true, WScale: 0},
		{HasMSS: true, MSS: 1220, SACKPermitted: true, HasWScale: true, WScale: 9},
		{HasMSS: true, MSS: 1460, HasTimestamps: true, TSVal: 5, TSEcr: 6, NumSACK: 3, SACK: blocks}, // one block dropped
		{HasMSS: true, SACKPermitted: true, HasTimestamps: true, HasWScale: true, NumSACK: 4, SACK: blocks},
	}
	for k := 1; k <= 4; k++ {
		cases = append(cases,
			&wire.Options{NumSACK: k, SACK: blocks},
			&wire.Options{HasTimestamps: true, TSVal: uint32(k), TSEcr: 0xffffffff, NumSACK: k, SACK: blocks})
	}
	return cases
}

var flagCases = []wire.Flags{
	wire.FlagSYN,
	wire.FlagSYN | wire.FlagACK,
	wire.FlagACK,
	wire.FlagPSH | wire.FlagACK,
	wire.FlagFIN | wire.FlagACK,
	wire.FlagRST,
	wire.FlagRST | wire.FlagACK,
	wire.FlagURG | wire.FlagACK | wire.FlagPSH,
	wire.FlagSYN | wire.FlagECE | wire.FlagCWR,
	0,
	0xff,
}

func payloadCases() [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	var out [][]byte
	for _, n := range []int{0, 1, 2, 7, 100, 1399, 1440} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		out = append(out, p)
	}
	return out
}

// buildOurs builds an IP packet carrying one TCP segment with the wire
// package alone.
func buildOurs(t *testing.T, src, dst netip.Addr, f *wire.TCPFields, o *wire.Options, payload []byte) []byte {
	t.Helper()
	ipLen := wire.IPv4HeaderLen
	if src.Is6() {
		ipLen = wire.IPv6HeaderLen
	}
	segLen := wire.TCPSegmentLen(o, len(payload))
	b := make([]byte, ipLen+segLen)
	seg := b[ipLen:]
	if wire.EncodeTCP(seg, f, o, payload) != segLen {
		t.Fatal("EncodeTCP")
	}
	wire.TCP(seg).SetChecksum(wire.TCPChecksum(src, dst, seg))
	var n int
	if src.Is4() {
		n = wire.EncodeIPv4(b, &wire.IPv4Fields{Src: src, Dst: dst, Protocol: wire.ProtoTCP, TTL: 64, TOS: 0x10,
			ID: uint16(segLen), DontFragment: true, PayloadLen: segLen})
	} else {
		n = wire.EncodeIPv6(b, &wire.IPv6Fields{Src: src, Dst: dst, NextHeader: wire.ProtoTCP, HopLimit: 64,
			TrafficClass: 0x28, FlowLabel: 0xabcde, PayloadLen: segLen})
	}
	if n != ipLen {
		t.Fatal("Encode IP")
	}
	return b
}

// TestOursDecodedByGopacket encodes with wire and checks every field with
// gopacket, then has gopacket re-serialize with its own checksums and
// requires the same bytes.
func TestOursDecodedByGopacket(t *testing.T) {
	fieldsFor := func(i int, fl wire.Flags) wire.TCPFields {
		return wire.TCPFields{SrcPort: uint16(1000 + i), DstPort: 443, Seq: 0xfffffff0 + uint32(i),
			Ack: uint32(i) * 0x01010101, Flags: fl, Window: uint16(65535 - i), Urgent: uint16(i % 3)}
	}
	i := 0
	for _, addrs := range [][2]netip.Addr{{src4, dst4}, {src6, dst6}} {
		for _, o := range optionCases() {
			for _, fl := range flagCases {
				for _, p := range payloadCases() {
					i++
					f := fieldsFor(i, fl)
					name := fmt.Sprintf("%v/%+v/%v/%d", addrs[0], o, fl, len(p))
					checkWithGopacket(t, name, addrs[0], addrs[1], &f, o, p)
				}
			}
		}
	}
	t.Logf("%d packets cross-checked", i)
}

func checkWithGopacket(t *testing.T, name string, src, dst netip.Addr, f *wire.TCPFields, o *wire.Options, payload []byte) {
	t.Helper()
	pkt := buildOurs(t, src, dst, f, o, payload)
	first := layers.LayerTypeIPv4
	if src.Is6() {
		first = layers.LayerTypeIPv6
	}
	gp := gopacket.NewPacket(pkt, first, gopacket.Default)
	if el := gp.ErrorLayer(); el != nil {
		t.Fatalf("%s: gopacket: %v", name, el.Error())
	}
	var netLayer gopacket.SerializableLayer
	switch ip := gp.NetworkLayer().(type) {
	case *layers.IPv4:
		netLayer = ip
		if ip.Version != 4 || ip.IHL != 5 || !ip.SrcIP.Equal(net.IP(src.AsSlice())) || !ip.DstIP.Equal(net.IP(dst.AsSlice())) ||
			ip.Protocol != layers.IPProtocolTCP || ip.TTL != 64 || ip.TOS != 0x10 || ip.Flags != layers.IPv4DontFragment ||
			ip.FragOffset != 0 || int(ip.Length) != len(pkt) {
			t.Fatalf("%s: IPv4 header %+v", name, ip)
		}
	case *layers.IPv6:
		netLayer = ip
		if ip.Version != 6 || !ip.SrcIP.Equal(net.IP(src.AsSlice())) || !ip.DstIP.Equal(net.IP(dst.AsSlice())) ||
			ip.NextHeader != layers.IPProtocolTCP || ip.HopLimit != 64 || ip.TrafficClass != 0x28 ||
			ip.FlowLabel != 0xabcde || int(ip.Length) != len(pkt)-40 {
			t.Fatalf("%s: IPv6 header %+v", name, ip)
		}
	default:
		t.Fatalf("%s: no network layer", name)
	}
	tcp, _ := gp.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		t.Fatalf("%s: no TCP layer", name)
	}
	if uint16(tcp.SrcPort) != f.SrcPort || uint16(tcp.DstPort) != f.DstPort || tcp.Seq != f.Seq || tcp.Ack != f.Ack ||
		gpFlags(tcp) != f.Flags || tcp.NS || tcp.Window != f.Window || tcp.Urgent != f.Urgent {
		t.Fatalf("%s: TCP header %+v", name, tcp)
	}
	want := wire.Options{}
	if o != nil {
		want = encodedOptions(*o)
	}
	if int(tcp.DataOffset)*4 != wire.TCPHeaderLen+want.Len() {
		t.Fatalf("%s: data offset %d", name, tcp.DataOffset)
	}
	got, ok := gpOptions(tcp.Options)
	if !ok || got != want {
		t.Fatalf("%s: options as gopacket sees them\n got %+v\nwant %+v\n%v", name, got, want, tcp.Options)
	}
	for _, op := range tcp.Options {
		if op.OptionType == layers.TCPOptionKindEndList {
			t.Fatalf("%s: unexpected end-of-list padding", name)
		}
	}
	if !bytes.Equal(tcp.Payload, payload) {
		t.Fatalf("%s: payload differs", name)
	}

	// gopacket's own checksum over the same layers must match ours.
	if err := tcp.SetNetworkLayerForChecksum(gp.NetworkLayer()); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true},
		netLayer, tcp, gopacket.Payload(payload))
	if err != nil {
		t.Fatalf("%s: serialize: %v", name, err)
	}
	if !bytes.Equal(buf.Bytes(), pkt) {
		t.Fatalf("%s: gopacket re-serialization differs\n ours % x\n gp   % x", name, pkt, buf.Bytes())
	}
}

// gpOption makes one gopacket option.
func gpOption(kind layers.TCPOptionKind, data ...byte) layers.TCPOption {
	return layers.TCPOption{OptionType: kind, OptionLength: uint8(2 + len(data)), OptionData: data}
}

func be32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

var nop = layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1}

// gpOptionLists are option lists as other stacks send them, in orders and
// alignments our encoder never uses, with unknown kinds and padding.
func gpOptionLists() [][]layers.TCPOption {
	ts := func(v, e uint32) layers.TCPOption { return gpOption(layers.TCPOptionKindTimestamps, be32(v, e)...) }
	sack := func(edges ...uint32) layers.TCPOption { return gpOption(layers.TCPOptionKindSACK, be32(edges...)...) }
	mss := func(m uint16) layers.TCPOption { return gpOption(layers.TCPOptionKindMSS, byte(m>>8), byte(m)) }
	ws := func(s byte) layers.TCPOption { return gpOption(layers.TCPOptionKindWindowScale, s) }
	sackOK := gpOption(layers.TCPOptionKindSACKPermitted)
	return [][]layers.TCPOption{
		nil,
		{mss(1460)},
		{mss(1460), nop, ws(7), nop, nop, ts(1, 0), sackOK}, // FreeBSD-like SYN, padded
		{mss(1460), nop, ws(8), sackOK, ts(0x11223344, 0)},  // unaligned, padded
		{nop, nop, ts(123456789, 987654321)},
		{nop, nop, ts(1, 2), nop, nop, sack(10, 20)},
		{nop, nop, sack(10, 20, 30, 40)},
		{nop, nop, sack(1, 2, 3, 4, 5, 6)},
		{sack(1, 2, 3, 4, 5, 6, 7, 8), nop, nop},
		{ts(5, 6), sack(1, 2, 3, 4, 5, 6)},                        // 36 bytes, unaligned, padded
		{mss(536), ts(5, 6), sack(1, 2, 3, 4, 5, 6)},              // exactly 40
		{gpOption(30, 1, 2, 3, 4), mss(1200)},                     // unknown kind (MPTCP) skipped
		{gpOption(34, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff), ws(2)}, // TFO cookie (RFC 7413)
		{gpOption(34, 0xaa, 0xbb, 0xcc), ws(2)},                   // TFO cookie of a bad length: ignored, marked
		{mss(100), mss(200)},                                      // later copy wins
		{ws(255)},                                                 // raw shift kept
		{sackOK, {OptionType: layers.TCPOptionKindEndList, OptionLength: 1}},
	}
}

// TestGopacketParsedByOurs builds packets with gopacket's serializer and
// checks that the wire package reads every field and accepts the checksums.
func TestGopacketParsedByOurs(t *testing.T) {
	i := 0
	for _, v6 := range []bool{false, true} {
		for li, opts := range gpOptionLists() {
			for _, fl := range flagCases {
				for _, p := range payloadCases() {
					i++
					checkGopacketPacket(t, fmt.Sprintf("v6=%v/list %d/%v/%d", v6, li, fl, len(p)), v6, i, opts, fl, p)
				}
			}
		}
	}
	t.Logf("%d packets cross-checked", i)
}

func checkGopacketPacket(t *testing.T, name string, v6 bool, i int, opts []layers.TCPOption, fl wire.Flags, payload []byte) {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(40000 + i), DstPort: 80, Seq: uint32(i) * 0x9e3779b9, Ack: ^uint32(i),
		Window: uint16(i * 31), Urgent: uint16(i), Options: append([]layers.TCPOption(nil), opts...)}
	setGPFlags(tcp, fl)
	var netLayer gopacket.SerializableLayer
	var src, dst netip.Addr
	if v6 {
		src, dst = src6, dst6
		ip := &layers.IPv6{Version: 6, TrafficClass: 0xb8, FlowLabel: uint32(i) & 0xfffff, NextHeader: layers.IPProtocolTCP,
			HopLimit: 255, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		netLayer = ip
		tcp.SetNetworkLayerForChecksum(ip)
	} else {
		src, dst = src4, dst4
		ip := &layers.IPv4{Version: 4, TOS: 0x04, Id: uint16(i), Flags: layers.IPv4DontFragment, TTL: 128,
			Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		netLayer = ip
		tcp.SetNetworkLayerForChecksum(ip)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		netLayer, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatalf("%s: serialize: %v", name, err)
	}
	pkt := buf.Bytes()
	if wire.IPVersion(pkt) != map[bool]int{false: 4, true: 6}[v6] {
		t.Fatalf("%s: IPVersion %d", name, wire.IPVersion(pkt))
	}

	var segBytes []byte
	if v6 {
		h, err := wire.ParseIPv6(pkt)
		if err != nil {
			t.Fatalf("%s: ParseIPv6: %v", name, err)
		}
		if h.Src() != src || h.Dst() != dst || h.NextHeader() != wire.ProtoTCP || h.HopLimit() != 255 ||
			h.TrafficClass() != 0xb8 || h.FlowLabel() != uint32(i)&0xfffff || h.PayloadLen() != len(pkt)-40 {
			t.Fatalf("%s: IPv6 fields", name)
		}
		segBytes = h.Payload()
	} else {
		h, err := wire.ParseIPv4(pkt)
		if err != nil {
			t.Fatalf("%s: ParseIPv4: %v", name, err)
		}
		if h.Src() != src || h.Dst() != dst || h.Protocol() != wire.ProtoTCP || h.TTL() != 128 || h.TOS() != 0x04 ||
			h.ID() != uint16(i) || !h.DontFragment() || h.MoreFragments() || h.IsFragment() || h.FragmentOffset() != 0 ||
			h.TotalLen() != len(pkt) || h.HeaderLen() != 20 || len(h.Options()) != 0 {
			t.Fatalf("%s: IPv4 fields", name)
		}
		segBytes = h.Payload()
	}

	seg, err := wire.ParseTCP(segBytes)
	if err != nil {
		t.Fatalf("%s: ParseTCP: %v", name, err)
	}
	if seg.SrcPort() != uint16(tcp.SrcPort) || seg.DstPort() != uint16(tcp.DstPort) || seg.Seq() != tcp.Seq ||
		seg.Ack() != tcp.Ack || seg.Flags() != fl || seg.Window() != tcp.Window || seg.Urgent() != tcp.Urgent ||
		seg.HeaderLen() != int(tcp.DataOffset)*4 || seg.Checksum() != tcp.Checksum {
		t.Fatalf("%s: TCP fields", name)
	}
	if !bytes.Equal(seg.Payload(), payload) {
		t.Fatalf("%s: payload differs", name)
	}
	var got wire.Options
	if err := seg.Options(&got); err != nil {
		t.Fatalf("%s: options: %v", name, err)
	}
	want, ok := gpOptions(opts)
	if !ok || got != want {
		t.Fatalf("%s: options\n got %+v\nwant %+v", name, got, want)
	}
	if !wire.VerifyTCPChecksum(src, dst, segBytes) {
		t.Fatalf("%s: gopacket's checksum does not verify", name)
	}
	if c := wire.TCPChecksum(src, dst, segBytes); c != tcp.Checksum {
		t.Fatalf("%s: TCPChecksum %#x, gopacket %#x", name, c, tcp.Checksum)
	}
}
