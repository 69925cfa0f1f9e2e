package link

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway/clock"
)

// direction is one way of a Pipe: it applies the impairments to packets
// written at one end and queues them at the other.
//
// Impaired packets wait in a heap ordered by arrival time behind a single
// clock timer armed for the earliest one. That keeps FIFO order for equal
// delays even on the real clock (whose AfterFunc callbacks race each
// other) and costs no allocation per packet.
type direction struct {
	imp    Impairments
	direct bool // no impairments: copy straight into dst
	clk    clock.Clock
	dst    *queue
	stats  counters
	closed atomic.Bool // the receiving end is closed

	mu      sync.Mutex // guards the fields below; taken before dst.mu
	rng     *rand.Rand
	freeAt  time.Time // when the link finishes serializing queued packets
	flight  flightHeap
	seq     uint64
	timer   clock.Timer
	armed   bool
	armedAt time.Time
}

func newDirection(imp Impairments, clk clock.Clock, dst *queue, rng *rand.Rand) *direction {
	return &direction{imp: imp, direct: imp.none(), clk: clk, dst: dst, rng: rng}
}

func (d *direction) send(pkts [][]byte) {
	if d.direct {
		d.sendDirect(pkts)
	} else {
		d.sendImpaired(pkts)
	}
}

// sendDirect copies the batch into the peer's queue under one lock.
func (d *direction) sendDirect(pkts [][]byte) {
	q := d.dst
	var delivered uint64
	q.mu.Lock()
	for _, p := range pkts {
		if q.closed || q.n == q.limit {
			break
		}
		b := q.getLocked(len(p))
		copy(b, p)
		q.pushLocked(b)
		delivered++
	}
	q.unlockAndWake()
	d.stats.sent.Add(uint64(len(pkts)))
	d.stats.delivered.Add(delivered)
	d.stats.queueDrops.Add(uint64(len(pkts)) - delivered)
}

func (d *direction) sendImpaired(pkts [][]byte) {
	d.stats.sent.Add(uint64(len(pkts)))
	d.mu.Lock()
	defer d.mu.Unlock()
	// Checked under the lock so that nothing enters flight after
	// shutdown has emptied it.
	if d.closed.Load() {
		d.stats.queueDrops.Add(uint64(len(pkts)))
		return
	}
	now := d.clk.Now()
	for _, p := range pkts {
		if d.imp.Drop != nil && d.imp.Drop(p) {
			d.stats.filtered.Add(1)
			continue
		}
		if chance(d.rng, d.imp.Loss) {
			d.stats.lost.Add(1)
			continue
		}
		copies := 1
		if chance(d.rng, d.imp.Duplicate) {
			copies = 2
			d.stats.duplicated.Add(1)
		}
		for range copies {
			b := d.dst.get(len(p))
			copy(b, p)
			if chance(d.rng, d.imp.Corrupt) {
				corrupt(d.rng, b)
				d.stats.corrupted.Add(1)
			}
			if d.imp.CE > 0 && ecnCapable(b) && chance(d.rng, d.imp.CE) {
				markCE(b)
				d.stats.ceMarked.Add(1)
			}
			d.flight.push(inFlight{at: d.arrival(now, len(b)), seq: d.seq, pkt: b})
			d.seq++
		}
	}
	d.deliverLocked(now)
	d.armLocked(now)
}

// arrival returns when a packet of n bytes sent at now reaches the peer.
func (d *direction) arrival(now time.Time, n int) time.Time {
	at := now
	if d.imp.Bandwidth > 0 {
		if d.freeAt.After(now) {
			at = d.freeAt
		}
		at = at.Add(d.imp.serialization(n))
		d.freeAt = at
	}
	at = at.Add(d.imp.Delay)
	if d.imp.Jitter > 0 {
		at = at.Add(time.Duration(d.rng.Int64N(int64(d.imp.Jitter))))
	}
	if chance(d.rng, d.imp.Reorder) {
		at = at.Add(d.imp.Delay + d.imp.reorderDelay())
		d.stats.reordered.Add(1)
	}
	return at
}

// deliverLocked queues at the peer every packet due by now.
func (d *direction) deliverLocked(now time.Time) {
	if len(d.flight) == 0 || d.flight[0].at.After(now) {
		return
	}
	q := d.dst
	var delivered, dropped uint64
	q.mu.Lock()
	for len(d.flight) > 0 && !d.flight[0].at.After(now) {
		if q.pushLocked(d.flight.pop().pkt) {
			delivered++
		} else {
			dropped++
		}
	}
	q.unlockAndWake()
	d.stats.delivered.Add(delivered)
	d.stats.queueDrops.Add(dropped)
}

// armLocked makes sure the timer will fire by the earliest arrival.
func (d *direction) armLocked(now time.Time) {
	if len(d.flight) == 0 {
		return
	}
	at := d.flight[0].at
	if d.armed && !at.Before(d.armedAt) {
		return
	}
	wait := at.Sub(now)
	if d.timer == nil {
		d.timer = d.clk.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
	d.armed, d.armedAt = true, at
}

// fire is the timer callback. A stale or early firing is harmless: it
// delivers what is due and re-arms for the rest.
func (d *direction) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed = false
	now := d.clk.Now()
	d.deliverLocked(now)
	d.armLocked(now)
}

// shutdown runs when the receiving end closes: packets on the wire, and
// any sent later, have nowhere to go.
func (d *direction) shutdown() {
	d.closed.Store(true)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.armed = false
	d.stats.queueDrops.Add(uint64(len(d.flight)))
	clear(d.flight)
	d.flight = d.flight[:0]
}
