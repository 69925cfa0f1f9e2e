package clock

import (
	"container/heap"
	"time"
)

// simTimer is one timer of a Sim. Its fields are guarded by the Sim's lock.
type simTimer struct {
	sim   *Sim
	f     func()
	when  time.Time
	seq   uint64 // creation (or last Reset) order, to break deadline ties
	index int    // position in the heap, or -1 when not pending
}

// Stop cancels the timer, reporting whether it was still pending.
func (t *simTimer) Stop() bool {
	s := t.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&s.timers, t.index)
	return true
}

// Reset re-arms the timer to fire d after the current simulated time,
// whether or not it already fired, and reports whether it was pending.
func (t *simTimer) Reset(d time.Duration) bool {
	s := t.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := t.index >= 0
	if pending {
		heap.Remove(&s.timers, t.index)
	}
	s.scheduleLocked(t, d)
	return pending
}
