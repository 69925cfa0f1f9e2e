package link

// Offloads is what a link does for the stack beyond carrying MTU-sized
// packets with complete checksums, in the manner of the Linux kernel's
// device offloads (a TUN device with a virtio-net header, say).
type Offloads struct {
	// TSO4 and TSO6: WritePacketsInfo accepts TCP segments over IPv4
	// (IPv6) of up to MaxPacket bytes with PacketInfo.GSOSize set, and
	// cuts each into segments of GSOSize bytes of payload, the PSH and
	// FIN on the last one only (TCP segmentation offload).
	TSO4, TSO6 bool
	// USO4 and USO6: the same for UDP datagrams (UDP segmentation).
	USO4, USO6 bool
	// Checksum: WritePacketsInfo accepts packets whose TCP checksum
	// field holds only the pseudo-header sum (PacketInfo.PartialChecksum)
	// and completes it.
	Checksum bool
	// MaxPacket is the largest packet the link reads or writes: at least
	// the MTU, more when it takes large segments or hands over coalesced
	// ones (receive offload).
	MaxPacket int
}

// PacketInfo is the offload metadata of one packet.
type PacketInfo struct {
	// GSOSize, when not zero, is the payload per segment: on a write, the
	// segments the link cuts the packet into; on a read, the segments a
	// coalesced packet was made of.
	GSOSize uint16
	// PartialChecksum: the TCP checksum field holds only the
	// pseudo-header sum. On a write the link completes it; on a read the
	// packet comes from the local host (the kernel left the sum to the
	// device), so there is no transmission error to check for.
	PartialChecksum bool
	// ChecksumValid (read): the link verified the checksum already.
	ChecksumValid bool
	// Err (read): why the link refuses the packet (a malformed offload
	// header, say); the stack counts the packet as a drop.
	Err error
}

// OffloadLink is a Link with offloads: it exchanges per-packet metadata
// with the stack.
type OffloadLink interface {
	Link
	// Offloads reports what the link does; the zero value means none,
	// and then the stack uses the plain Link methods.
	Offloads() Offloads
	// WritePacketsInfo is WritePackets with info[i] describing pkts[i].
	WritePacketsInfo(pkts [][]byte, info []PacketInfo) error
	// ReadPacketsInfo is ReadPackets, also filling info[i] for each
	// packet read.
	ReadPacketsInfo(bufs [][]byte, sizes []int, info []PacketInfo) (int, error)
}

// OffloadsOf returns l as an OffloadLink and its offloads, or nil and the
// zero Offloads when l has none.
func OffloadsOf(l Link) (OffloadLink, Offloads) {
	if o, ok := l.(OffloadLink); ok {
		if off := o.Offloads(); off != (Offloads{}) {
			off.MaxPacket = max(off.MaxPacket, l.MTU())
			return o, off
		}
	}
	return nil, Offloads{}
}
