package host

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Batch is up to BatchSize packets for the link, in the order they are to
// be written. The caller of TakeOutput owns it, and its packets' buffers,
// until Recycle.
type Batch struct {
	Pkts [][]byte
	Meta []PacketMeta // aligned with Pkts
}

// PacketMeta is what the link is asked to do for one packet (see
// link.PacketInfo).
type PacketMeta struct {
	GSOSize         uint16 // cut into segments of this much payload
	PartialChecksum bool   // complete the TCP checksum
}

// BatchSize is the most packets in one Batch.
const BatchSize = 64

// Spare batches and packet buffers kept for reuse: as many as are out
// being written under load, buffers up to maxFreeBytes.
const (
	maxFreeBatches = 64
	maxFreeBytes   = 4 << 20
)

// MaxHeaders is the most header bytes a TCP packet has: IPv6 (40) and
// TCP with 40 bytes of options (60).
const MaxHeaders = 100

// txQueue is the packets built and not yet taken, and spare batches and
// buffers. Buffers are pooled one by one, so a batch taken after one
// packet holds one buffer.
type txQueue struct {
	size     int
	cur      *Batch
	full     []*Batch
	free     []*Batch
	freeBufs [][]byte
	next     []byte // the buffer slot handed out, until commit
}

func (q *txQueue) init(size int) { q.size = size }

// slot returns the buffer for the next packet.
func (q *txQueue) slot() []byte {
	if q.cur == nil {
		q.cur = q.newBatch()
	} else if len(q.cur.Pkts) == BatchSize {
		q.full = append(q.full, q.cur)
		q.cur = q.newBatch()
	}
	if q.next == nil {
		if n := len(q.freeBufs); n > 0 {
			q.next = q.freeBufs[n-1]
			q.freeBufs[n-1] = nil
			q.freeBufs = q.freeBufs[:n-1]
		} else {
			q.next = make([]byte, q.size+60)
		}
	}
	return q.next
}

func (q *txQueue) newBatch() *Batch {
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		return b
	}
	return &Batch{Pkts: make([][]byte, 0, BatchSize), Meta: make([]PacketMeta, 0, BatchSize)}
}

// commit appends the first n bytes of the slot as a packet.
func (q *txQueue) commit(n int, m PacketMeta) {
	b := q.cur
	b.Pkts = append(b.Pkts, q.next[:n])
	b.Meta = append(b.Meta, m)
	q.next = nil
}

// HasOutput reports whether TakeOutput has packets to give.
func (h *Host) HasOutput() bool {
	return len(h.tx.full) > 0 || h.tx.cur != nil && len(h.tx.cur.Pkts) > 0
}

// TakeOutput appends the batches of packets built since the last call to
// dst, oldest first. Each must go back with Recycle once written.
func (h *Host) TakeOutput(dst []*Batch) []*Batch {
	q := &h.tx
	if q.cur != nil && len(q.cur.Pkts) > 0 {
		q.full = append(q.full, q.cur)
		q.cur = nil
	}
	dst = append(dst, q.full...)
	clear(q.full)
	q.full = q.full[:0]
	return dst
}

// Recycle returns a written batch and its buffers for reuse.
func (h *Host) Recycle(b *Batch) {
	q := &h.tx
	for _, p := range b.Pkts {
		if (len(q.freeBufs)+1)*cap(p) <= maxFreeBytes {
			q.freeBufs = append(q.freeBufs, p[:cap(p)])
		}
	}
	clear(b.Pkts)
	b.Pkts = b.Pkts[:0]
	b.Meta = b.Meta[:0]
	if len(q.free) < maxFreeBatches {
		q.free = append(q.free, b)
	}
}

// sendOutput turns everything in h.out into packets.
func (h *Host) sendOutput() {
	for i := range h.out.Segs {
		o := &h.out.Segs[i]
		if o.SegSize > 0 && len(o.Seg.Payload) > int(o.SegSize) &&
			(!h.linkCuts(&o.Tuple) || len(o.Seg.Payload)+MaxHeaders > h.tx.size+60) {
			h.segmentInSoftware(o)
		} else {
			h.sendSegment(&o.Tuple, &o.Seg, o.SegSize)
		}
		if o.Seg.Flags.Has(wire.FlagRST) {
			h.env.Stats.OutRsts++
		}
		if h.trace != nil {
			h.trace.Segment(Outbound, o.Tuple, &o.Seg)
		}
	}
	h.out.Reset()
}

// linkCuts reports whether the link's segmentation offload takes large
// segments on t's IP version.
func (h *Host) linkCuts(t *tcp.Tuple) bool {
	if t.LocalAddr.Is4() {
		return h.offloads.TSO4
	}
	return h.offloads.TSO6
}

// sendSegment builds one packet; segSize marks it for the link to cut.
func (h *Host) sendSegment(t *tcp.Tuple, seg *tcp.Segment, segSize uint16) {
	buf := h.tx.slot()
	n := h.buildPacket(buf, t, seg, h.offloads.Checksum)
	if n == 0 {
		return
	}
	m := PacketMeta{PartialChecksum: h.offloads.Checksum}
	pieces := 1
	if segSize > 0 && len(seg.Payload) > int(segSize) {
		m.GSOSize = segSize
		pieces = (len(seg.Payload) + int(segSize) - 1) / int(segSize)
	}
	h.tx.commit(n, m)
	h.env.Stats.OutSegs += uint64(pieces)
}

// segmentInSoftware cuts a large segment for a link without segmentation
// offload, as the kernel's GSO would: the same header on every piece,
// sequence numbers advancing, the PSH and FIN only on the last.
func (h *Host) segmentInSoftware(o *tcp.OutSegment) {
	piece := o.Seg
	size := int(o.SegSize)
	last := o.Seg.Flags & (wire.FlagPSH | wire.FlagFIN)
	for off := 0; off < len(o.Seg.Payload); off += size {
		end := min(off+size, len(o.Seg.Payload))
		piece.Seq = o.Seg.Seq.Add(seqnum.Size(off))
		piece.Payload = o.Seg.Payload[off:end]
		piece.Flags = o.Seg.Flags &^ last
		if end == len(o.Seg.Payload) {
			piece.Flags |= last
		}
		h.sendSegment(&o.Tuple, &piece, 0)
	}
}

// buildPacket writes seg as an IP packet into buf and returns its length.
// With partial, the TCP checksum field gets only the pseudo-header sum,
// for the link's checksum offload to complete.
func (h *Host) buildPacket(buf []byte, t *tcp.Tuple, seg *tcp.Segment, partial bool) int {
	ipLen := wire.IPv4HeaderLen
	if !t.LocalAddr.Is4() {
		ipLen = wire.IPv6HeaderLen
	}
	tcpLen := wire.TCPSegmentLen(&seg.Options, len(seg.Payload))
	if ipLen+tcpLen > len(buf) {
		return 0
	}
	f := wire.TCPFields{
		SrcPort: t.LocalPort, DstPort: t.RemotePort,
		Seq: uint32(seg.Seq), Ack: uint32(seg.Ack),
		Flags: seg.Flags, Window: seg.Window,
	}
	tb := buf[ipLen : ipLen+tcpLen]
	if wire.EncodeTCP(tb, &f, &seg.Options, seg.Payload) == 0 {
		return 0
	}
	if partial {
		wire.TCP(tb).SetChecksum(wire.PartialTCPChecksum(t.LocalAddr, t.RemoteAddr, tcpLen))
	} else {
		wire.TCP(tb).SetChecksum(wire.TCPChecksum(t.LocalAddr, t.RemoteAddr, tb))
	}
	h.encodeIP(buf, t.LocalAddr, t.RemoteAddr, wire.ProtoTCP, tcpLen, seg.ECN&3, true)
	return ipLen + tcpLen
}

// encodeIP writes the IP header for a payload of n bytes of proto. tos is
// the ECN field (RFC 3168 §5; DSCP 0); df sets IPv4's Don't Fragment.
func (h *Host) encodeIP(buf []byte, src, dst netip.Addr, proto uint8, n int, tos uint8, df bool) int {
	if src.Is4() {
		h.ipID++
		wire.EncodeIPv4(buf, &wire.IPv4Fields{
			Src: src, Dst: dst, Protocol: proto,
			TTL: 64, ID: h.ipID, DontFragment: df, PayloadLen: n, TOS: tos,
		})
		return wire.IPv4HeaderLen
	}
	wire.EncodeIPv6(buf, &wire.IPv6Fields{
		Src: src, Dst: dst, NextHeader: proto,
		HopLimit: 64, PayloadLen: n, TrafficClass: tos,
	})
	return wire.IPv6HeaderLen
}
