package link

import "sync/atomic"

// PipeStats counts what happened to the packets written on one end of a
// Pipe, i.e. to one direction of traffic.
type PipeStats struct {
	Sent       uint64 // packets passed to WritePackets
	Delivered  uint64 // copies queued at the peer, duplicates included
	Lost       uint64 // dropped by the random Loss impairment
	Duplicated uint64 // packets sent twice
	Reordered  uint64 // copies held back to arrive out of order
	Corrupted  uint64 // copies with a bit flipped
	QueueDrops uint64 // copies dropped because the peer's queue was full or closed
	Filtered   uint64 // dropped by the Drop function
	CEMarked   uint64 // ECN-capable copies marked Congestion Experienced
}

// counters is PipeStats in atomic form, so the fast path need not take
// the direction lock just to count.
type counters struct {
	sent, delivered, lost, duplicated atomic.Uint64
	reordered, corrupted, queueDrops  atomic.Uint64
	filtered, ceMarked                atomic.Uint64
}

func (c *counters) snapshot() PipeStats {
	return PipeStats{
		Sent:       c.sent.Load(),
		Delivered:  c.delivered.Load(),
		Lost:       c.lost.Load(),
		Duplicated: c.duplicated.Load(),
		Reordered:  c.reordered.Load(),
		Corrupted:  c.corrupted.Load(),
		QueueDrops: c.queueDrops.Load(),
		Filtered:   c.filtered.Load(),
		CEMarked:   c.ceMarked.Load(),
	}
}
