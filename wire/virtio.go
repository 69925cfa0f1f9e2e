package wire

import (
	"encoding/binary"
	"net/netip"
)

// VirtioNetHdr is a view of a virtio-net header (struct virtio_net_hdr,
// Virtual I/O Device spec v1.2 §5.1.6), the 10 bytes a Linux TUN device
// opened with IFF_VNET_HDR puts before every packet. It describes the
// offloads the packet carries: a checksum left for the receiver to
// complete, or a large TCP segment to cut into (or coalesced from)
// GSOSize-byte segments. Fields are little-endian, as TUN uses them on
// little-endian hosts (TUNSETVNETLE is not needed there).
type VirtioNetHdr []byte

// VirtioNetHdrLen is the size of struct virtio_net_hdr.
const VirtioNetHdrLen = 10

// Virtio-net header flags (spec §5.1.6).
const (
	VirtioNeedsCsum  = 1 // the checksum at CsumStart+CsumOffset holds only the pseudo-header sum
	VirtioDataValid  = 2 // the sender checked the checksum
	virtioFlagsKnown = VirtioNeedsCsum | VirtioDataValid
)

// Virtio-net GSO types (spec §5.1.6, VIRTIO_NET_HDR_GSO_*).
const (
	VirtioGSONone  = 0
	VirtioGSOTCPv4 = 1
	VirtioGSOUDP   = 3 // UFO: IPv4 fragmentation offload, long obsolete
	VirtioGSOTCPv6 = 4
	VirtioGSOUDPL4 = 5 // USO: UDP segmentation
	VirtioGSOECN   = 0x80
)

// protoUDP is UDP's IP protocol number (RFC 768).
const protoUDP = 17

// Virtio-net header errors: why a header is refused.
const (
	ErrVirtioShort     Error = "virtio: header shorter than 10 bytes"
	ErrVirtioFlags     Error = "virtio: unknown flag bits"
	ErrVirtioGSOType   Error = "virtio: unknown gso_type"
	ErrVirtioGSOSize   Error = "virtio: gso_size zero or larger than the packet"
	ErrVirtioGSOMatch  Error = "virtio: gso_type does not match the packet"
	ErrVirtioCsumStart Error = "virtio: csum_start or csum_offset past the packet"
	ErrVirtioCsumTCP   Error = "virtio: checksum offset is not the TCP checksum of a GSO segment"
)

// ParseVirtioNetHdr checks b's flags and GSO type and returns the header
// view. It does not look at the packet: see Check.
func ParseVirtioNetHdr(b []byte) (VirtioNetHdr, error) {
	if len(b) < VirtioNetHdrLen {
		return nil, ErrVirtioShort
	}
	h := VirtioNetHdr(b[:VirtioNetHdrLen])
	if h.Flags()&^virtioFlagsKnown != 0 {
		return nil, ErrVirtioFlags
	}
	switch h.GSOType() {
	case VirtioGSONone, VirtioGSOTCPv4, VirtioGSOTCPv6, VirtioGSOUDPL4:
	default:
		return nil, ErrVirtioGSOType
	}
	if h.GSOType() == VirtioGSONone && h.ECN() {
		return nil, ErrVirtioGSOType
	}
	return h, nil
}

// Flags returns the flags byte.
func (h VirtioNetHdr) Flags() uint8 { return h[0] }

// GSOType returns the GSO type without the ECN bit.
func (h VirtioNetHdr) GSOType() uint8 { return h[1] &^ VirtioGSOECN }

// ECN reports the ECN bit: the segments carry CWR (RFC 3168 §6.1.2).
func (h VirtioNetHdr) ECN() bool { return h[1]&VirtioGSOECN != 0 }

// HdrLen returns hdr_len, the length of the headers (a hint).
func (h VirtioNetHdr) HdrLen() int { return int(binary.LittleEndian.Uint16(h[2:4])) }

// GSOSize returns the payload size of each segment of a GSO packet.
func (h VirtioNetHdr) GSOSize() int { return int(binary.LittleEndian.Uint16(h[4:6])) }

// CsumStart returns where the checksummed bytes start.
func (h VirtioNetHdr) CsumStart() int { return int(binary.LittleEndian.Uint16(h[6:8])) }

// CsumOffset returns where, from CsumStart, the checksum is stored.
func (h VirtioNetHdr) CsumOffset() int { return int(binary.LittleEndian.Uint16(h[8:10])) }

// NeedsCsum reports VIRTIO_NET_HDR_F_NEEDS_CSUM.
func (h VirtioNetHdr) NeedsCsum() bool { return h[0]&VirtioNeedsCsum != 0 }

// DataValid reports VIRTIO_NET_HDR_F_DATA_VALID.
func (h VirtioNetHdr) DataValid() bool { return h[0]&VirtioDataValid != 0 }

// Check tests the header against the packet it came with: a checksum
// location inside the packet, and a GSO type the packet is (TCP over the
// right IP version) with a usable gso_size and the partial checksum on
// the TCP checksum field, as Linux's virtio_net_hdr_to_skb requires.
func (h VirtioNetHdr) Check(pkt []byte) error {
	if h.NeedsCsum() && h.CsumStart()+h.CsumOffset()+2 > len(pkt) {
		return ErrVirtioCsumStart
	}
	gso := h.GSOType()
	if gso == VirtioGSONone {
		return nil
	}
	proto, ipLen := packetTransport(pkt)
	switch {
	case gso == VirtioGSOTCPv4 && IPVersion(pkt) == 4 && proto == ProtoTCP:
	case gso == VirtioGSOTCPv6 && IPVersion(pkt) == 6 && proto == ProtoTCP:
	case gso == VirtioGSOUDPL4 && ipLen > 0 && proto == protoUDP:
	default:
		return ErrVirtioGSOMatch
	}
	if h.GSOSize() == 0 || h.GSOSize() > len(pkt)-ipLen {
		return ErrVirtioGSOSize
	}
	if proto == ProtoTCP && h.NeedsCsum() && (h.CsumStart() != ipLen || h.CsumOffset() != 16) {
		return ErrVirtioCsumTCP
	}
	return nil
}

// packetTransport returns the transport protocol of an IP packet and the
// IP header's length, or (0, 0) if the packet does not parse. IPv6
// extension headers are not walked.
func packetTransport(pkt []byte) (uint8, int) {
	switch IPVersion(pkt) {
	case 4:
		ip, err := ParseIPv4(pkt)
		if err != nil || ip.IsFragment() {
			return 0, 0
		}
		return ip.Protocol(), ip.HeaderLen()
	case 6:
		ip, err := ParseIPv6(pkt)
		if err != nil {
			return 0, 0
		}
		return ip.NextHeader(), IPv6HeaderLen
	}
	return 0, 0
}

// VirtioNetHdrFields are the header's fields, for encoding.
type VirtioNetHdrFields struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
}

// EncodeVirtioNetHdr writes f into b[:10] and returns 10, or 0 if b is
// too short.
func EncodeVirtioNetHdr(b []byte, f *VirtioNetHdrFields) int {
	if len(b) < VirtioNetHdrLen {
		return 0
	}
	b[0], b[1] = f.Flags, f.GSOType
	binary.LittleEndian.PutUint16(b[2:], f.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], f.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], f.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], f.CsumOffset)
	return VirtioNetHdrLen
}

// PartialTCPChecksum is what a TCP checksum field holds when the rest is
// left to the receiver (VIRTIO_NET_HDR_F_NEEDS_CSUM, Linux's
// CHECKSUM_PARTIAL): the pseudo-header sum for a segment of length bytes,
// folded and not complemented, so that summing the segment over it and
// complementing gives the RFC 9293 §3.1 checksum.
func PartialTCPChecksum(src, dst netip.Addr, length int) uint16 {
	return ^Fold(PseudoHeaderSum(src, dst, ProtoTCP, length))
}

// CompleteChecksum finishes a partial checksum as VIRTIO_NET_HDR_F_NEEDS_CSUM
// asks: the one's complement of the sum from start to the packet's end,
// stored at start+offset. It reports false if that lies past the packet.
func CompleteChecksum(pkt []byte, start, offset int) bool {
	if start < 0 || offset < 0 || start+offset+2 > len(pkt) {
		return false
	}
	binary.BigEndian.PutUint16(pkt[start+offset:], Fold(Sum(pkt[start:], 0)))
	return true
}

// PartialTCP reports whether the header marks pkt's TCP checksum as
// partial: NEEDS_CSUM on the checksum field of a TCP segment.
func (h VirtioNetHdr) PartialTCP(pkt []byte) bool {
	if !h.NeedsCsum() {
		return false
	}
	proto, ipLen := packetTransport(pkt)
	return proto == ProtoTCP && h.CsumStart() == ipLen && h.CsumOffset() == 16
}

// TCPHeaders returns the IP and TCP header lengths of pkt, an IPv4 or
// IPv6 packet carrying a TCP segment, or ok false if it is not one.
func TCPHeaders(pkt []byte) (ipLen, tcpLen int, ok bool) {
	proto, ipLen := packetTransport(pkt)
	if proto != ProtoTCP {
		return 0, 0, false
	}
	seg, err := ParseTCP(pkt[ipLen:])
	if err != nil {
		return 0, 0, false
	}
	return ipLen, seg.HeaderLen(), true
}
