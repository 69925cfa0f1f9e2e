package threeway

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// offloadPipeMax lets a pipe carry 64 KiB segments whole.
const offloadPipeMax = 65535 + 40

// largest watches a pipe direction and remembers its largest packet.
func largest(max *atomic.Int64) func([]byte) bool {
	return func(pkt []byte) bool {
		if n := int64(len(pkt)); n > max.Load() {
			max.Store(n)
		}
		return false
	}
}

// connected dials from n.client to n.server on port 9.
func connected(t *testing.T, n *testNet, addr string) (net.Conn, net.Conn) {
	t.Helper()
	l := listen(t, n.server, ":9")
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		acc <- c
	}()
	c, err := n.client.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := <-acc
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { s.Close() })
	return c, s
}

// Over a link with segmentation offload both stacks send large segments
// (up to 64 KiB, cut into MSS pieces by the link) and take them whole;
// the streams arrive intact both ways, IPv4 and IPv6.
func TestBulkInLargeSegmentsOverOffloadLink(t *testing.T) {
	t.Parallel()
	size := int64(16 << 20)
	if testing.Short() {
		size = 4 << 20
	}
	for _, addr := range []string{"192.0.2.2:9", "[2001:db8::2]:9"} {
		t.Run(addr, func(t *testing.T) {
			var ab, ba atomic.Int64
			n := newTestNet(t, netConfig{pipe: link.PipeConfig{MaxPacket: offloadPipeMax,
				AtoB: link.Impairments{Drop: largest(&ab)}, BtoA: link.Impairments{Drop: largest(&ba)}}})
			c, s := connected(t, n, addr)
			if err := exchange(c, s, 1, size, 2, size, 64<<10); err != nil {
				t.Fatal(err)
			}
			if ab.Load() <= 1500 || ba.Load() <= 1500 {
				t.Errorf("largest packets %d and %d bytes: no large segments on an offload link", ab.Load(), ba.Load())
			}
			if ab.Load() > offloadPipeMax || ba.Load() > offloadPipeMax {
				t.Errorf("packets of %d and %d bytes exceed 64 KiB", ab.Load(), ba.Load())
			}
		})
	}
}

// Loss on an offload link: what was sent as a large segment is lost whole
// and repaired MSS by MSS; the stream still arrives intact.
func TestLargeSegmentsRepairedUnderLoss(t *testing.T) {
	t.Parallel()
	size := int64(4 << 20)
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{MaxPacket: offloadPipeMax, Seed: 7,
		AtoB: link.Impairments{Loss: 0.02}, BtoA: link.Impairments{Loss: 0.02}},
		tcp: tcp.Config{MinRTO: 200 * time.Millisecond, InitialRTO: 200 * time.Millisecond}})
	c, s := connected(t, n, "192.0.2.2:9")
	if err := exchange(c, s, 1, size, 2, size, 64<<10); err != nil {
		t.Fatal(err)
	}
	if n.client.Stats().RetransSegs == 0 && n.server.Stats().RetransSegs == 0 {
		t.Errorf("no retransmissions at 2%% loss")
	}
}

// segSizes is a Tracer that records the largest outbound payload.
type segSizes struct {
	mu      sync.Mutex
	largest int
}

func (z *segSizes) Segment(d Direction, _ tcp.Tuple, seg *tcp.Segment) {
	if d == Outbound {
		z.mu.Lock()
		z.largest = max(z.largest, len(seg.Payload))
		z.mu.Unlock()
	}
}
func (z *segSizes) StateChanged(tcp.Tuple, tcp.State, tcp.State)    {}
func (z *segSizes) Dropped(tcp.Tuple, *tcp.Segment, tcp.DropReason) {}

// A core told to build large segments (Config.MaxSegment) on a link
// without offload: the runtime cuts them itself, so the link sees only
// MTU-sized packets and the stream arrives intact.
func TestSoftwareSegmentationOnPlainLink(t *testing.T) {
	t.Parallel()
	var ab atomic.Int64
	tr := &segSizes{}
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{Drop: largest(&ab)}},
		tcp: tcp.Config{MaxSegment: 65535}, clientTrace: tr})
	c, s := connected(t, n, "[2001:db8::2]:9")
	size := int64(4 << 20)
	if err := exchange(c, s, 1, size, 2, 1000, 64<<10); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.largest <= 1500 {
		t.Errorf("the core built no large segment (largest %d)", tr.largest)
	}
	if ab.Load() > 1500 {
		t.Errorf("a %d-byte packet reached a 1500-byte link", ab.Load())
	}
	if got := n.client.Stats().OutSegs; got < uint64(size/1440) {
		t.Errorf("OutSegs %d counts large segments, not the %d wire segments", got, size/1440)
	}
}

// scriptLink is an OffloadLink that hands the stack a fixed list of
// packets with their metadata, then records what the stack writes.
type scriptLink struct {
	pkts [][]byte
	info []link.PacketInfo
	mu   sync.Mutex
	out  [][]byte
	done chan struct{}
}

func (l *scriptLink) MTU() int                      { return 1500 }
func (l *scriptLink) Offloads() link.Offloads       { return link.Offloads{Checksum: true, MaxPacket: 1500} }
func (l *scriptLink) WritePackets(p [][]byte) error { return l.WritePacketsInfo(p, nil) }
func (l *scriptLink) WritePacketsInfo(p [][]byte, _ []link.PacketInfo) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range p {
		l.out = append(l.out, append([]byte(nil), b...))
	}
	return nil
}
func (l *scriptLink) ReadPackets(b [][]byte, s []int) (int, error) {
	return l.ReadPacketsInfo(b, s, make([]link.PacketInfo, len(b)))
}
func (l *scriptLink) ReadPacketsInfo(b [][]byte, s []int, info []link.PacketInfo) (int, error) {
	if len(l.pkts) == 0 {
		<-l.done
		return 0, link.ErrClosed
	}
	n := 0
	for ; n < len(l.pkts) && n < len(b); n++ {
		s[n] = copy(b[n], l.pkts[n])
		info[n] = l.info[n]
	}
	l.pkts, l.info = l.pkts[n:], l.info[n:]
	return n, nil
}
func (l *scriptLink) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

// synTo builds a SYN from 192.0.2.1:1000 to 192.0.2.2:port with a
// checksum that is right, or wrong.
func synTo(port uint16, goodChecksum bool) []byte {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	o := wire.Options{HasMSS: true, MSS: 1460}
	tcpLen := wire.TCPSegmentLen(&o, 0)
	pkt := make([]byte, wire.IPv4HeaderLen+tcpLen)
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: src, Dst: dst, Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: tcpLen})
	seg := pkt[wire.IPv4HeaderLen:]
	wire.EncodeTCP(seg, &wire.TCPFields{SrcPort: 1000, DstPort: port, Seq: 1, Flags: wire.FlagSYN, Window: 1000}, &o, nil)
	sum := wire.TCPChecksum(src, dst, seg)
	if !goodChecksum {
		sum ^= 0x5555
	}
	wire.TCP(seg).SetChecksum(sum)
	return pkt
}

// The runtime honours what the link says of each packet: a refused
// offload header is a counted drop (BadOffloadHeader), a partial checksum
// (the local host's packet) and DATA_VALID are trusted, and a packet the
// link vouches nothing for is still checked.
func TestOffloadLinkPacketInfo(t *testing.T) {
	sl := &scriptLink{done: make(chan struct{}),
		pkts: [][]byte{synTo(80, true), synTo(81, false), synTo(82, false), synTo(83, false)},
		info: []link.PacketInfo{
			{Err: wire.ErrVirtioGSOSize},
			{PartialChecksum: true},
			{ChecksumValid: true},
			{},
		}}
	s, err := New(Options{Link: sl, Addrs: []netip.Prefix{serverAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitFor(t, 5*time.Second, "four packets handled", func() bool {
		st := s.Stats()
		return st.Drops[tcp.DropBadOffloadHeader]+st.Drops[tcp.DropBadChecksum]+st.Drops[tcp.DropNoConnection] >= 4
	})
	st := s.Stats()
	if st.Drops[tcp.DropBadOffloadHeader] != 1 || st.Drops[tcp.DropBadChecksum] != 1 || st.Drops[tcp.DropNoConnection] != 2 {
		t.Fatalf("drops %v: want one BadOffloadHeader, one BadChecksum, two trusted SYNs refused with RSTs", st.Map())
	}
	// The RSTs went out with partial checksums for the link to finish.
	sl.mu.Lock()
	defer sl.mu.Unlock()
	for _, p := range sl.out {
		ip := wire.IPv4(p)
		if seg := p[wire.IPv4HeaderLen:]; wire.TCP(seg).Checksum() != wire.PartialTCPChecksum(ip.Src(), ip.Dst(), len(seg)) {
			t.Errorf("RST checksum %#x is not the partial sum", wire.TCP(seg).Checksum())
		}
	}
	if len(sl.out) != 2 {
		t.Errorf("%d packets written, want 2 RSTs", len(sl.out))
	}
}
