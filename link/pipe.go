package link

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/threeway-tcp/threeway/clock"
)

// PipeConfig configures a Pipe. The zero value is a perfect 1500-byte link
// on the real clock.
type PipeConfig struct {
	MTU   int         // default 1500
	Clock clock.Clock // default clock.Real; delays use Clock.AfterFunc
	Seed  uint64      // seeds the impairments' random choices
	// AtoB applies to packets written on a, BtoA to packets written on b.
	AtoB, BtoA Impairments
	// QueueLen is the most packets waiting to be read at each end
	// (default 4096); beyond it packets are dropped and counted in
	// QueueDrops, like a full device queue.
	QueueLen int
	// MaxPacket, above the MTU, makes the pipe a link with segmentation
	// offload (Offloads: TSO4, TSO6): it carries TCP segments of up to
	// MaxPacket bytes whole, as a kernel hands a coalesced segment to a
	// receiver with offloads, so both stacks work in large segments.
	MaxPacket int
}

// The two directions draw from distinct PCG streams of the same seed, so
// one direction's randomness does not depend on the other's traffic.
const (
	streamAtoB = 0x6174_6f62 // "atob"
	streamBtoA = 0x6274_6f61 // "btoa"
)

// Pipe returns two connected ends. A packet written on a is read from b
// and vice versa.
func Pipe(cfg PipeConfig) (a, b *PipeEnd) {
	mtu := cfg.MTU
	if mtu <= 0 {
		mtu = 1500
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real
	}
	qlen := cfg.QueueLen
	if qlen <= 0 {
		qlen = 4096
	}
	qa, qb := newQueue(qlen, mtu), newQueue(qlen, mtu)
	ab := newDirection(cfg.AtoB, clk, qb, rand.New(rand.NewPCG(cfg.Seed, streamAtoB)))
	ba := newDirection(cfg.BtoA, clk, qa, rand.New(rand.NewPCG(cfg.Seed, streamBtoA)))
	maxPkt := max(cfg.MaxPacket, mtu)
	a = &PipeEnd{mtu: mtu, maxPkt: maxPkt, rx: qa, tx: ab, in: ba}
	b = &PipeEnd{mtu: mtu, maxPkt: maxPkt, rx: qb, tx: ba, in: ab}
	return a, b
}

// PipeEnd is one end of a Pipe. It implements Link and is safe for
// concurrent use. Closing one end does not close the other: packets sent
// toward a closed end are dropped.
type PipeEnd struct {
	mtu    int
	maxPkt int        // largest packet carried: MTU, or more with offloads
	rx     *queue     // packets waiting to be read here
	tx     *direction // packets written here
	in     *direction // packets written at the peer
	closed atomic.Bool
}

var _ OffloadLink = (*PipeEnd)(nil)

// MTU returns the pipe's MTU.
func (e *PipeEnd) MTU() int { return e.mtu }

// WritePackets sends the packets toward the peer. If any packet exceeds
// the MTU it returns ErrTooBig and sends none of them.
func (e *PipeEnd) WritePackets(pkts [][]byte) error {
	if e.closed.Load() {
		return ErrClosed
	}
	for _, p := range pkts {
		if len(p) > e.mtu {
			return ErrTooBig
		}
	}
	e.tx.send(pkts)
	return nil
}

// Offloads reports segmentation offload when the pipe carries packets
// larger than its MTU (PipeConfig.MaxPacket); checksums stay whole.
func (e *PipeEnd) Offloads() Offloads {
	if e.maxPkt <= e.mtu {
		return Offloads{}
	}
	return Offloads{TSO4: true, TSO6: true, MaxPacket: e.maxPkt}
}

// WritePacketsInfo implements OffloadLink: packets up to MaxPacket go
// through whole (info is not needed: the peer takes them whole too).
func (e *PipeEnd) WritePacketsInfo(pkts [][]byte, info []PacketInfo) error {
	if e.closed.Load() {
		return ErrClosed
	}
	for _, p := range pkts {
		if len(p) > e.maxPkt {
			return ErrTooBig
		}
	}
	e.tx.send(pkts)
	return nil
}

// ReadPacketsInfo implements OffloadLink; the packets carry no metadata.
func (e *PipeEnd) ReadPacketsInfo(bufs [][]byte, sizes []int, info []PacketInfo) (int, error) {
	n, err := e.rx.read(bufs, sizes)
	clear(info[:min(n, len(info))])
	return n, err
}

// ReadPackets implements Link. With no room (len(bufs) or len(sizes) zero)
// it returns 0 at once.
func (e *PipeEnd) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	return e.rx.read(bufs, sizes)
}

// Queued returns how many packets wait to be read at e: a reader that is
// the only one can read that many without blocking.
func (e *PipeEnd) Queued() int { return e.rx.len() }

// Close discards queued packets, wakes blocked readers, and makes further
// calls fail with ErrClosed. Closing twice is harmless.
func (e *PipeEnd) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.in.shutdown()
	e.rx.close()
	return nil
}

// Stats counts what happened to the packets written on e.
func (e *PipeEnd) Stats() PipeStats { return e.tx.stats.snapshot() }
