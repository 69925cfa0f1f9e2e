package clock

import (
	"sync"
	"time"
)

// processStart anchors activity stamps to the monotonic clock, so they
// survive wall-clock jumps and fit in an atomic int64.
var processStart = time.Now()

// touch records that someone is using the Sim right now.
func (s *Sim) touch() { s.lastActive.Store(int64(time.Since(processStart))) }

// idle returns how long (in real time) the Sim has gone unused.
// A held Sim is never idle.
func (s *Sim) idle() time.Duration {
	if s.holds.Load() > 0 {
		return 0
	}
	return time.Since(processStart) - time.Duration(s.lastActive.Load())
}

// Poke marks activity, postponing any AutoAdvance.
func (s *Sim) Poke() { s.touch() }

// waitCh returns nil if a timer is pending, or else a channel that is
// closed once one is.
func (s *Sim) waitCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.timers) > 0 {
		return nil
	}
	if s.added == nil {
		s.added = make(chan struct{})
	}
	return s.added
}

// AutoAdvance starts a goroutine that lets simulated time pass only when
// the system is quiet: whenever quiet has passed in real time with no call
// to Now, AfterFunc, Stop, Reset or Poke on s and a timer is pending, it
// calls AdvanceToNext. Goroutines blocked on timers (a net.Conn waiting for
// a retransmission, say) thus see timeouts as soon as everyone else is
// stuck, instead of after the full simulated delay.
//
// The goroutine sleeps on a channel while no timer is pending and on a
// real timer while waiting out the quiet period, so it never spins. The
// returned function stops it and waits for it to exit; it may be called
// more than once.
func (s *Sim) AutoAdvance(quiet time.Duration) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go s.autoAdvance(quiet, quit, done)
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

func (s *Sim) autoAdvance(quiet time.Duration, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	sleep := time.NewTimer(quiet)
	defer sleep.Stop()
	for {
		if ch := s.waitCh(); ch != nil {
			select {
			case <-ch:
			case <-quit:
				return
			}
			// A timer was just added, which counts as activity: the
			// next pass waits out a full quiet period.
			continue
		}
		if idle := s.idle(); idle < quiet {
			sleep.Reset(quiet - idle)
			select {
			case <-sleep.C:
			case <-quit:
				return
			}
			continue
		}
		select {
		case <-quit:
			return
		default:
		}
		s.AdvanceToNext()
		// Callbacks may have woken goroutines without touching the Sim
		// (by closing a channel, say); give them a quiet period to react
		// before the next jump.
		s.touch()
	}
}
