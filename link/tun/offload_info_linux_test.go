//go:build linux

package tun

import (
	"testing"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// tcpPacket is an IPv4 TCP segment with n bytes of payload (its TCP
// checksum is not needed here).
func tcpPacket(n int) []byte {
	var o wire.Options
	tcpLen := wire.TCPSegmentLen(&o, n)
	pkt := make([]byte, wire.IPv4HeaderLen+tcpLen)
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: ourAddr, Dst: kernelAddr, Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: tcpLen})
	wire.EncodeTCP(pkt[wire.IPv4HeaderLen:], &wire.TCPFields{SrcPort: 1, DstPort: 2, Flags: wire.FlagACK}, &o, make([]byte, n))
	return pkt
}

// What the device reports for each header the kernel might hand over:
// the GSO size of a coalesced segment, a partial or checked checksum, or
// the named reason a malformed header is refused (the stack counts the
// drop); a plain ReadPackets caller gets malformed packets dropped.
func TestOffloadInfoFromHeader(t *testing.T) {
	pkt := tcpPacket(4000)
	cases := []struct {
		name string
		hdr  wire.VirtioNetHdrFields
		want link.PacketInfo
	}{
		{"coalesced", wire.VirtioNetHdrFields{Flags: wire.VirtioNeedsCsum, GSOType: wire.VirtioGSOTCPv4, GSOSize: 1448, CsumStart: 20, CsumOffset: 16},
			link.PacketInfo{GSOSize: 1448, PartialChecksum: true}},
		{"data valid", wire.VirtioNetHdrFields{Flags: wire.VirtioDataValid}, link.PacketInfo{ChecksumValid: true}},
		{"gso_size zero", wire.VirtioNetHdrFields{Flags: wire.VirtioNeedsCsum, GSOType: wire.VirtioGSOTCPv4, CsumStart: 20, CsumOffset: 16},
			link.PacketInfo{Err: wire.ErrVirtioGSOSize}},
		{"csum_start past the packet", wire.VirtioNetHdrFields{Flags: wire.VirtioNeedsCsum, CsumStart: 9000, CsumOffset: 16},
			link.PacketInfo{Err: wire.ErrVirtioCsumStart}},
		{"gso type of the other IP version", wire.VirtioNetHdrFields{Flags: wire.VirtioNeedsCsum, GSOType: wire.VirtioGSOTCPv6, GSOSize: 1448, CsumStart: 20, CsumOffset: 16},
			link.PacketInfo{Err: wire.ErrVirtioGSOMatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &batchIO{info: make([]link.PacketInfo, 1)}
			wire.EncodeVirtioNetHdr(b.hdr[:], &tc.hdr)
			if !b.offloadInfo(append([]byte(nil), pkt...)) || b.info[0] != tc.want {
				t.Fatalf("info %+v, want %+v", b.info[0], tc.want)
			}
			b.info = nil
			if kept := b.offloadInfo(append([]byte(nil), pkt...)); kept != (tc.want.Err == nil) {
				t.Fatalf("plain read kept=%v for err %v", kept, tc.want.Err)
			}
		})
	}
}

// The header written for a large segment: GSO type by IP version,
// gso_size, hdr_len and the partial checksum on the TCP field.
func TestHeaderForLargeSegment(t *testing.T) {
	b := &batchIO{}
	pkt := tcpPacket(4000)
	b.encodeHdr(pkt, &link.PacketInfo{GSOSize: 1460, PartialChecksum: true})
	h, err := wire.ParseVirtioNetHdr(b.hdr[:])
	if err != nil || h.Check(pkt) != nil {
		t.Fatalf("header %v: %v / %v", b.hdr, err, h.Check(pkt))
	}
	if h.GSOType() != wire.VirtioGSOTCPv4 || h.GSOSize() != 1460 || h.HdrLen() != 40 || !h.PartialTCP(pkt) {
		t.Fatalf("header %v", b.hdr)
	}
	// One segment's worth: no GSO, still the partial checksum.
	b.encodeHdr(tcpPacket(1000), &link.PacketInfo{GSOSize: 1460, PartialChecksum: true})
	if h, _ := wire.ParseVirtioNetHdr(b.hdr[:]); h.GSOType() != wire.VirtioGSONone || !h.NeedsCsum() {
		t.Fatalf("small segment header %v", b.hdr)
	}
	b.encodeHdr(pkt, nil)
	if b.hdr != [wire.VirtioNetHdrLen]byte{} {
		t.Fatalf("plain write header %v", b.hdr)
	}
}
