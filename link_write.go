package threeway

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/threeway-tcp/threeway/host"
)

// linkWriter hands the packets the host built under the stack's lock to
// whichever caller writes them to the link after releasing it. Its own
// small lock is never held across a write, so a slow link (a pcap sink,
// a full device queue) stalls only the caller writing, never the others.
// One caller writes at a time, taking every queued batch in order, so
// packets leave in the order the host built them; a caller that finds
// another writing leaves its packets to that one.
type linkWriter struct {
	mu      sync.Mutex
	queue   []*host.Batch // built, not yet written
	spare   []*host.Batch
	written []*host.Batch // to give back to the host
	writing bool
	// busy: queue or written holds batches (set under mu), so callers
	// with nothing to hand over skip the lock.
	busy atomic.Bool
}

// queueOutput moves what the host built to the writer's queue and gives
// the host back what was written. Called with the stack's lock held.
func (s *Stack) queueOutput() {
	w := &s.tx
	if !s.host.HasOutput() && !w.busy.Load() {
		return
	}
	w.mu.Lock()
	w.queue = s.host.TakeOutput(w.queue)
	for _, b := range w.written {
		s.host.Recycle(b)
	}
	clear(w.written)
	w.written = w.written[:0]
	w.busy.Store(len(w.queue) > 0)
	w.mu.Unlock()
}

// unlock releases the stack's lock, then writes the queued packets unless
// another caller is writing.
func (s *Stack) unlock() {
	s.mu.Unlock()
	w := &s.tx
	if !w.busy.Load() {
		return // nothing queued by anyone: no write to do
	}
	w.mu.Lock()
	if w.writing || len(w.queue) == 0 {
		w.mu.Unlock()
		return
	}
	w.writing = true
	for len(w.queue) > 0 {
		batches := w.queue
		w.queue = w.spare[:0]
		w.mu.Unlock()
		for _, b := range batches {
			s.writeBatch(b)
		}
		w.mu.Lock()
		w.written = append(w.written, batches...)
		clear(batches)
		w.spare = batches[:0]
		w.busy.Store(true) // written batches wait for the host
	}
	w.writing = false
	w.mu.Unlock()
}

// drainWrites returns once every queued packet is written: Close's last
// RSTs go out before the link closes, whichever caller writes them.
func (s *Stack) drainWrites() {
	w := &s.tx
	for {
		w.mu.Lock()
		busy, queued := w.writing, len(w.queue) > 0
		w.mu.Unlock()
		switch {
		case !busy && !queued:
			return
		case !busy:
			s.mu.Lock()
			s.unlock()
		default:
			runtime.Gosched()
		}
	}
}

// writeBatch writes one batch. A link error (a full device queue, say) is
// loss, which TCP repairs.
func (s *Stack) writeBatch(b *host.Batch) {
	if s.olink == nil {
		_ = s.link.WritePackets(b.Pkts)
		return
	}
	info := s.txInfo[:len(b.Pkts)]
	for i, m := range b.Meta {
		info[i].GSOSize, info[i].PartialChecksum = m.GSOSize, m.PartialChecksum
	}
	_ = s.olink.WritePacketsInfo(b.Pkts, info)
	clear(info)
}
