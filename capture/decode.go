package capture

import (
	"errors"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// Segment is a TCP segment found in a captured packet.
type Segment struct {
	Time       time.Time
	Src, Dst   netip.AddrPort
	TCP        wire.TCP // header and options; its payload is what was captured
	PayloadLen int      // the payload's length on the wire
}

// Reasons Decode gives for a packet that holds no TCP segment it can show.
var (
	ErrNotTCP   = errors.New("not TCP")
	ErrFragment = errors.New("IPv4 fragment")
	ErrCut      = errors.New("capture cut the packet inside its headers")
)

// maxIPPacket is the longest IP packet without jumbograms: a 64 KiB
// IPv6 payload after its fixed header.
const maxIPPacket = wire.IPv6HeaderLen + 0xffff

// Decode finds the TCP segment in p with wire's views. TCP checksums are
// not checked: a capture on the sending host sees them before the NIC
// fills them in. A packet the capture cut short (snap length) still
// decodes if its headers were captured; PayloadLen then says how long
// the payload really was.
func Decode(p Packet) (Segment, error) {
	ip, err := Network(p.LinkType, p.Data)
	if err != nil {
		return Segment{}, err
	}
	captured := len(ip) // bytes of the IP packet the capture holds
	if missing := p.OrigLen - len(p.Data); missing > 0 {
		// The IP views check lengths against the buffer; give them one
		// as long as the packet was, then keep only what was captured.
		// The length on the wire comes from the capture and may be
		// anything; no IP packet the views accept is longer than this.
		full := make([]byte, min(len(ip)+missing, maxIPPacket))
		copy(full, ip)
		ip = full
	}
	h, err := wire.ParseIPPacket(ip)
	if err == wire.ErrIPVersion {
		return Segment{}, ErrNotIP
	}
	if err != nil {
		return Segment{}, err
	}
	if h.Protocol() != wire.ProtoTCP {
		return Segment{}, ErrNotTCP // IPv6 extension headers are not walked
	}
	if h.IsFragment() {
		return Segment{}, ErrFragment
	}
	src, dst, payload := h.Src(), h.Dst(), h.Payload()
	keep := captured - len(h.Header()) // TCP bytes captured
	if keep < wire.TCPHeaderLen {
		return Segment{}, ErrCut
	}
	t, err := wire.ParseTCP(payload)
	if err != nil {
		return Segment{}, err
	}
	if keep < t.HeaderLen() {
		return Segment{}, ErrCut
	}
	keep = min(keep, len(t))
	return Segment{
		Time:       p.Time,
		Src:        netip.AddrPortFrom(src, t.SrcPort()),
		Dst:        netip.AddrPortFrom(dst, t.DstPort()),
		TCP:        t[:keep:keep],
		PayloadLen: len(t) - t.HeaderLen(),
	}, nil
}
