package wire

import (
	"net/netip"
	"testing"
)

// tcpPacket builds an IP packet (v4 when src is IPv4) carrying a TCP
// segment with payloadLen bytes, checksum filled in.
func tcpPacket(src, dst netip.Addr, payloadLen int) []byte {
	seg := mustTCP(TCPFields{SrcPort: 1, DstPort: 2, Seq: 3, Flags: FlagACK}, &Options{}, make([]byte, payloadLen))
	TCP(seg).SetChecksum(TCPChecksum(src, dst, seg))
	if src.Is4() {
		b := make([]byte, IPv4HeaderLen+len(seg))
		EncodeIPv4(b, &IPv4Fields{Src: src, Dst: dst, Protocol: ProtoTCP, TTL: 64, PayloadLen: len(seg)})
		copy(b[IPv4HeaderLen:], seg)
		return b
	}
	b := make([]byte, IPv6HeaderLen+len(seg))
	EncodeIPv6(b, &IPv6Fields{Src: src, Dst: dst, NextHeader: ProtoTCP, HopLimit: 64, PayloadLen: len(seg)})
	copy(b[IPv6HeaderLen:], seg)
	return b
}

func virtioHdr(f VirtioNetHdrFields) []byte {
	b := make([]byte, VirtioNetHdrLen)
	EncodeVirtioNetHdr(b, &f)
	return b
}

func TestVirtioNetHdrRoundTrip(t *testing.T) {
	f := VirtioNetHdrFields{Flags: VirtioNeedsCsum, GSOType: VirtioGSOTCPv4 | VirtioGSOECN, HdrLen: 52, GSOSize: 1448, CsumStart: 20, CsumOffset: 16}
	h, err := ParseVirtioNetHdr(virtioHdr(f))
	if err != nil {
		t.Fatal(err)
	}
	if !h.NeedsCsum() || h.DataValid() || h.GSOType() != VirtioGSOTCPv4 || !h.ECN() || h.HdrLen() != 52 ||
		h.GSOSize() != 1448 || h.CsumStart() != 20 || h.CsumOffset() != 16 {
		t.Fatalf("fields: %v", []byte(h))
	}
	if EncodeVirtioNetHdr(make([]byte, 9), &f) != 0 {
		t.Fatal("encoded into a short buffer")
	}
}

// TestVirtioNetHdrRejectsMalformed: every way a header can be wrong for
// its packet has its own named error (the runtime drops such packets).
func TestVirtioNetHdrRejectsMalformed(t *testing.T) {
	p4 := tcpPacket(v4a, v4b, 3000)
	p6 := tcpPacket(v6a, v6b, 3000)
	gso4 := VirtioNetHdrFields{Flags: VirtioNeedsCsum, GSOType: VirtioGSOTCPv4, GSOSize: 1000, CsumStart: 20, CsumOffset: 16}
	with := func(f VirtioNetHdrFields, edit func(*VirtioNetHdrFields)) VirtioNetHdrFields { edit(&f); return f }
	cases := []struct {
		name string
		hdr  []byte
		pkt  []byte
		want error
	}{
		{"valid GSO v4", virtioHdr(gso4), p4, nil},
		{"valid GSO v6", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.GSOType, f.CsumStart = VirtioGSOTCPv6, 40 })), p6, nil},
		{"valid plain", virtioHdr(VirtioNetHdrFields{}), p4, nil},
		{"valid data-valid", virtioHdr(VirtioNetHdrFields{Flags: VirtioDataValid}), p6, nil},
		{"short header", make([]byte, 9), p4, ErrVirtioShort},
		{"unknown flag", virtioHdr(VirtioNetHdrFields{Flags: 0x10}), p4, ErrVirtioFlags},
		{"unknown gso type", virtioHdr(VirtioNetHdrFields{GSOType: 2}), p4, ErrVirtioGSOType},
		{"ecn without gso", virtioHdr(VirtioNetHdrFields{GSOType: VirtioGSOECN}), p4, ErrVirtioGSOType},
		{"gso_size zero", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.GSOSize = 0 })), p4, ErrVirtioGSOSize},
		{"gso_size past packet", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.GSOSize = 4000 })), p4, ErrVirtioGSOSize},
		{"csum_start past packet", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.CsumStart = uint16(len(p4)) })), p4, ErrVirtioCsumStart},
		{"csum_offset past packet", virtioHdr(VirtioNetHdrFields{Flags: VirtioNeedsCsum, CsumStart: 20, CsumOffset: 0xffff}), p4, ErrVirtioCsumStart},
		{"csum not on tcp checksum", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.CsumOffset = 6 })), p4, ErrVirtioCsumTCP},
		{"tcpv4 on ipv6", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.CsumStart = 40 })), p6, ErrVirtioGSOMatch},
		{"tcpv6 on ipv4", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.GSOType = VirtioGSOTCPv6 })), p4, ErrVirtioGSOMatch},
		{"udp gso on tcp", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.GSOType = VirtioGSOUDPL4 })), p4, ErrVirtioGSOMatch},
		{"gso on garbage", virtioHdr(with(gso4, func(f *VirtioNetHdrFields) { f.Flags = 0 })), make([]byte, 100), ErrVirtioGSOMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseVirtioNetHdr(tc.hdr)
			if err == nil {
				err = h.Check(tc.pkt)
			}
			if err != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPartialChecksumCompletes: a segment whose field holds the partial
// sum, completed as NEEDS_CSUM asks, carries the RFC 9293 checksum.
func TestPartialChecksumCompletes(t *testing.T) {
	for _, ends := range [][2]netip.Addr{{v4a, v4b}, {v6a, v6b}} {
		for _, n := range []int{0, 1, 1447, 65000} {
			pkt := tcpPacket(ends[0], ends[1], n)
			ipLen := IPv4HeaderLen
			if ends[0].Is6() {
				ipLen = IPv6HeaderLen
			}
			seg := TCP(pkt[ipLen:])
			want := seg.Checksum()
			seg.SetChecksum(PartialTCPChecksum(ends[0], ends[1], len(seg)))
			if !CompleteChecksum(pkt, ipLen, 16) || seg.Checksum() != want {
				t.Fatalf("%v len %d: completed %#x, want %#x", ends[0], n, seg.Checksum(), want)
			}
		}
	}
	if CompleteChecksum(make([]byte, 10), 5, 4) {
		t.Fatal("completed past the packet")
	}
}

func FuzzVirtioNetHdr(f *testing.F) {
	p4 := tcpPacket(v4a, v4b, 3000)
	f.Add(virtioHdr(VirtioNetHdrFields{Flags: VirtioNeedsCsum, GSOType: VirtioGSOTCPv4, GSOSize: 1000, CsumStart: 20, CsumOffset: 16}), p4)
	f.Add(virtioHdr(VirtioNetHdrFields{Flags: VirtioNeedsCsum, GSOType: VirtioGSOTCPv6, GSOSize: 1, CsumStart: 40, CsumOffset: 16}), tcpPacket(v6a, v6b, 10))
	f.Add(virtioHdr(VirtioNetHdrFields{Flags: VirtioDataValid}), p4[:40])
	f.Add([]byte{}, []byte{})
	f.Add(virtioHdr(VirtioNetHdrFields{Flags: VirtioNeedsCsum, GSOType: VirtioGSOUDPL4, GSOSize: 8, CsumStart: 0xfff0, CsumOffset: 0xffff}), []byte{0x45})
	f.Fuzz(func(t *testing.T, hdr, pkt []byte) {
		h, err := ParseVirtioNetHdr(hdr)
		if err != nil {
			return
		}
		if err := h.Check(pkt); err != nil {
			if _, ok := err.(Error); !ok {
				t.Fatalf("unnamed error %v", err)
			}
			return
		}
		// An accepted header must describe its packet: the checksum
		// location inside it, a GSO size that fits.
		if h.NeedsCsum() && !CompleteChecksum(append([]byte(nil), pkt...), h.CsumStart(), h.CsumOffset()) {
			t.Fatalf("accepted csum_start %d offset %d on %d bytes", h.CsumStart(), h.CsumOffset(), len(pkt))
		}
		if h.GSOType() != VirtioGSONone && (h.GSOSize() == 0 || h.GSOSize() > len(pkt)) {
			t.Fatalf("accepted gso_size %d on %d bytes", h.GSOSize(), len(pkt))
		}
	})
}
