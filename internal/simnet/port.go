package simnet

import (
	"sync"

	"github.com/threeway-tcp/threeway/link"
)

// Port is the link.Link under one stack in a stepped world. What the
// stack writes goes to the function given to NewPort; what it reads is
// what Deliver hands it. Deliver returns only once the stack has finished
// with the batch, which it shows by coming back to read the next: the
// stack's reader goroutine runs only while a Deliver waits for it.
type Port struct {
	mtu     int
	write   func(pkts [][]byte) error
	onClose func() // closes what the Port stands on, if anything

	in        chan delivery
	processed chan int
	done      chan struct{}
	closeOnce sync.Once

	pending int // packets of the batch being processed; reader-owned
}

// delivery is a batch for the stack, with its per-packet metadata (nil
// for none).
type delivery struct {
	pkts [][]byte
	info []link.PacketInfo
}

var _ link.Link = (*Port)(nil)

// NewPort returns a Port with the given MTU whose stack's writes go to
// write. write runs in whichever goroutine the stack writes from, one
// call at a time while the driver waits.
func NewPort(mtu int, write func(pkts [][]byte) error) *Port {
	return &Port{
		mtu: mtu, write: write,
		in: make(chan delivery), processed: make(chan int), done: make(chan struct{}),
	}
}

// MTU implements link.Link.
func (p *Port) MTU() int { return p.mtu }

// WritePackets implements link.Link.
func (p *Port) WritePackets(pkts [][]byte) error {
	select {
	case <-p.done:
		return link.ErrClosed
	default:
	}
	return p.write(pkts)
}

// ReadPackets implements link.Link: it waits for the next Deliver.
func (p *Port) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	return p.ReadPacketsInfo(bufs, sizes, nil)
}

// ReadPacketsInfo is ReadPackets with the metadata Deliver was given, for
// a Port wrapped as a link.OffloadLink.
func (p *Port) ReadPacketsInfo(bufs [][]byte, sizes []int, info []link.PacketInfo) (int, error) {
	if p.pending > 0 {
		// Back for more: the last batch is done.
		k := p.pending
		p.pending = 0
		select {
		case p.processed <- k:
		case <-p.done:
			return 0, link.ErrClosed
		}
	}
	select {
	case d := <-p.in:
		k := min(len(d.pkts), len(bufs), len(sizes))
		for i := range k {
			sizes[i] = copy(bufs[i], d.pkts[i])
			if i < len(info) {
				info[i] = link.PacketInfo{}
				if i < len(d.info) {
					info[i] = d.info[i]
				}
			}
		}
		p.pending = k
		if k == 0 {
			// No room: report nothing taken, at once.
			p.pending = 0
			p.processed <- 0
		}
		return k, nil
	case <-p.done:
		return 0, link.ErrClosed
	}
}

// Deliver hands pkts (and their metadata, if info is not nil) to the
// stack and waits until it has processed them. It returns how many the
// stack took, which is fewer than len(pkts) when its read buffers were
// fewer; the caller delivers the rest next.
func (p *Port) Deliver(pkts [][]byte, info []link.PacketInfo) (int, error) {
	if len(pkts) == 0 {
		return 0, nil
	}
	select {
	case p.in <- delivery{pkts, info}:
	case <-p.done:
		return 0, link.ErrClosed
	}
	select {
	case k := <-p.processed:
		return k, nil
	case <-p.done:
		return 0, link.ErrClosed
	}
}

// DeliverAll delivers every packet of pkts, in batches as the stack takes
// them.
func (p *Port) DeliverAll(pkts [][]byte, info []link.PacketInfo) error {
	for len(pkts) > 0 {
		k, err := p.Deliver(pkts, info)
		if err != nil {
			return err
		}
		if k == 0 {
			return errNoRoom
		}
		pkts = pkts[k:]
		if info != nil {
			info = info[k:]
		}
	}
	return nil
}

// Close implements link.Link: the stack's reader gets link.ErrClosed, and
// a Port made by Net.Join closes its pipe end.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		close(p.done)
		if p.onClose != nil {
			p.onClose()
		}
	})
	return nil
}
