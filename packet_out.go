package threeway

import (
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// txBatch holds the packets built from one round of core output, written
// to the link in one call.
type txBatch struct {
	bufs [][]byte // backing buffers, one per packet slot
	pkts [][]byte // filled packets
}

const txBatchSize = 64

func (b *txBatch) init(mtu int) {
	b.bufs = make([][]byte, txBatchSize)
	for i := range b.bufs {
		b.bufs[i] = make([]byte, mtu+60)
	}
	b.pkts = make([][]byte, 0, txBatchSize)
}

// sendOutput serializes everything in s.out and writes it to the link.
func (s *Stack) sendOutput() {
	for i := range s.out.Segs {
		o := &s.out.Segs[i]
		if len(s.tx.pkts) == len(s.tx.bufs) {
			s.writeBatch()
		}
		buf := s.tx.bufs[len(s.tx.pkts)]
		n := s.buildPacket(buf, o)
		if n == 0 {
			continue
		}
		s.tx.pkts = append(s.tx.pkts, buf[:n])
		s.env.Stats.OutSegs++
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

func (s *Stack) writeBatch() {
	if len(s.tx.pkts) == 0 {
		return
	}
	// A link error (a full device queue, say) is loss, which TCP repairs.
	_ = s.link.WritePackets(s.tx.pkts)
	clear(s.tx.pkts)
	s.tx.pkts = s.tx.pkts[:0]
}

// buildPacket writes o as an IP packet into buf and returns its length.
func (s *Stack) buildPacket(buf []byte, o *tcp.OutSegment) int {
	t := &o.Tuple
	seg := &o.Seg
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
	wire.TCP(tb).SetChecksum(wire.TCPChecksum(t.LocalAddr, t.RemoteAddr, tb))
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
