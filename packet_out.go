package threeway

import (
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// txBatch holds the packets built from one round of core output, written
// to the link in one call.
type txBatch struct {
	bufs [][]byte          // backing buffers, one per packet slot
	pkts [][]byte          // filled packets
	info []link.PacketInfo // offload metadata, aligned with pkts; zero unless set
}

const txBatchSize = 64

// maxHeaders is the most header bytes a TCP packet has: IPv6 (40) and TCP
// with 40 bytes of options (60).
const maxHeaders = 100

// init sizes the slots for packets of up to size bytes.
func (b *txBatch) init(size int) {
	b.bufs = make([][]byte, txBatchSize)
	for i := range b.bufs {
		b.bufs[i] = make([]byte, size+60)
	}
	b.pkts = make([][]byte, 0, txBatchSize)
	b.info = make([]link.PacketInfo, txBatchSize)
}

// sendOutput serializes everything in s.out and writes it to the link.
func (s *Stack) sendOutput() {
	for i := range s.out.Segs {
		o := &s.out.Segs[i]
		if o.SegSize > 0 && len(o.Seg.Payload) > int(o.SegSize) &&
			(!s.linkCuts(&o.Tuple) || len(o.Seg.Payload)+maxHeaders > len(s.tx.bufs[0])) {
			s.segmentInSoftware(o)
		} else {
			s.sendSegment(&o.Tuple, &o.Seg, o.SegSize)
		}
		if o.Seg.Flags.Has(wire.FlagRST) {
			s.env.Stats.OutRsts++
		}
		if s.trace != nil {
			s.trace.Segment(Outbound, o.Tuple, &o.Seg)
		}
	}
	s.out.Reset()
	s.writeBatch()
}

// linkCuts reports whether the link's segmentation offload takes large
// segments on t's IP version.
func (s *Stack) linkCuts(t *tcp.Tuple) bool {
	if t.LocalAddr.Is4() {
		return s.offloads.TSO4
	}
	return s.offloads.TSO6
}

// sendSegment builds one packet into the batch; segSize marks it for the
// link to cut.
func (s *Stack) sendSegment(t *tcp.Tuple, seg *tcp.Segment, segSize uint16) {
	if len(s.tx.pkts) == len(s.tx.bufs) {
		s.writeBatch()
	}
	k := len(s.tx.pkts)
	buf := s.tx.bufs[k]
	n := s.buildPacket(buf, t, seg, s.offloads.Checksum)
	if n == 0 {
		return
	}
	s.tx.pkts = append(s.tx.pkts, buf[:n])
	in := &s.tx.info[k]
	in.PartialChecksum = s.offloads.Checksum
	pieces := 1
	if segSize > 0 && len(seg.Payload) > int(segSize) {
		in.GSOSize = segSize
		pieces = (len(seg.Payload) + int(segSize) - 1) / int(segSize)
	}
	s.env.Stats.OutSegs += uint64(pieces)
}

// segmentInSoftware cuts a large segment for a link without segmentation
// offload, as the kernel's GSO would: the same header on every piece,
// sequence numbers advancing, the PSH and FIN only on the last.
func (s *Stack) segmentInSoftware(o *tcp.OutSegment) {
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
		s.sendSegment(&o.Tuple, &piece, 0)
	}
}

func (s *Stack) writeBatch() {
	if len(s.tx.pkts) == 0 {
		return
	}
	// A link error (a full device queue, say) is loss, which TCP repairs.
	if s.olink != nil {
		_ = s.olink.WritePacketsInfo(s.tx.pkts, s.tx.info[:len(s.tx.pkts)])
	} else {
		_ = s.link.WritePackets(s.tx.pkts)
	}
	clear(s.tx.info[:len(s.tx.pkts)])
	clear(s.tx.pkts)
	s.tx.pkts = s.tx.pkts[:0]
}

// buildPacket writes seg as an IP packet into buf and returns its length.
// With partial, the TCP checksum field gets only the pseudo-header sum,
// for the link's checksum offload to complete.
func (s *Stack) buildPacket(buf []byte, t *tcp.Tuple, seg *tcp.Segment, partial bool) int {
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
	if ipLen == wire.IPv4HeaderLen {
		s.ipID++
		wire.EncodeIPv4(buf, &wire.IPv4Fields{
			Src: t.LocalAddr, Dst: t.RemoteAddr, Protocol: wire.ProtoTCP,
			TTL: 64, ID: s.ipID, DontFragment: true, PayloadLen: tcpLen,
			TOS: seg.ECN & 3, // RFC 3168 §5: the ECN field; DSCP 0
		})
	} else {
		wire.EncodeIPv6(buf, &wire.IPv6Fields{
			Src: t.LocalAddr, Dst: t.RemoteAddr, NextHeader: wire.ProtoTCP,
			HopLimit: 64, PayloadLen: tcpLen,
			TrafficClass: seg.ECN & 3,
		})
	}
	return ipLen + tcpLen
}
