package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Sim is a simulated clock: time stands still until Advance or
// AdvanceToNext moves it. It is safe for
// concurrent use. Timer callbacks run in the goroutine that advances the
// clock, without the Sim's lock held, so they may use the Sim freely.
type Sim struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers timerHeap
}

// NewSim returns a simulated clock reading start.
func NewSim(start time.Time) *Sim {
	// Drop any monotonic reading: simulated instants must compare by their
	// wall value alone, as Add and Sub would otherwise mix the two.
	return &Sim{now: start.Round(0)}
}

// Now returns the simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// AfterFunc arranges for f to be called by whoever advances the clock past
// Now()+d. With d <= 0 it is due at once and runs on the next advance,
// including one that is already in progress.
func (s *Sim) AfterFunc(d time.Duration, f func()) Timer {
	t := &simTimer{sim: s, f: f, index: -1}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scheduleLocked(t, d)
	return t
}

// Pending returns the number of timers that have not fired or been stopped.
func (s *Sim) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.timers)
}

// Next returns the earliest pending deadline, and false if none is pending.
func (s *Sim) Next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.timers) == 0 {
		return time.Time{}, false
	}
	return s.timers[0].when, true
}

// Advance moves time forward by d, running every timer due on the way in
// deadline order (ties in creation order), each with Now() equal to its
// deadline. Timers that callbacks schedule within the interval run too.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	target := s.now.Add(max(d, 0))
	s.mu.Unlock()
	s.advanceTo(target)
}

// AdvanceToNext jumps to the earliest pending deadline and runs every timer
// due then. It reports false, leaving time alone, if no timer is pending.
func (s *Sim) AdvanceToNext() bool {
	s.mu.Lock()
	if len(s.timers) == 0 {
		s.mu.Unlock()
		return false
	}
	target := s.timers[0].when
	s.mu.Unlock()
	s.advanceTo(target)
	return true
}

// advanceTo runs the timers due by target one at a time, dropping the lock
// around each callback, then sets the clock to target. Time never moves
// backwards, even when two goroutines advance at once.
func (s *Sim) advanceTo(target time.Time) {
	for {
		s.mu.Lock()
		if len(s.timers) == 0 || s.timers[0].when.After(target) {
			if target.After(s.now) {
				s.now = target
			}
			s.mu.Unlock()
			return
		}
		t := heap.Pop(&s.timers).(*simTimer)
		if t.when.After(s.now) {
			s.now = t.when
		}
		f := t.f
		s.mu.Unlock()
		f()
	}
}

// scheduleLocked makes t pending at now+d with a fresh tie-break sequence.
func (s *Sim) scheduleLocked(t *simTimer, d time.Duration) {
	t.when = s.now.Add(max(d, 0))
	t.seq = s.seq
	s.seq++
	heap.Push(&s.timers, t)
}
