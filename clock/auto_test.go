package clock

import (
	"sync/atomic"
	"testing"
	"time"
)

// sleep blocks the calling goroutine for d of simulated time, the way a
// goroutine-based user of the stack would wait on a timer.
func sleep(s *Sim, d time.Duration) {
	ch := make(chan struct{})
	s.AfterFunc(d, func() { close(ch) })
	<-ch
}

func TestAutoAdvanceRunsBackoffChainQuickly(t *testing.T) {
	s := NewSim(epoch)
	stop := s.AutoAdvance(time.Millisecond)
	defer stop()

	start := time.Now()
	done := make(chan time.Duration)
	go func() {
		sleep(s, 1*time.Second) // first retransmission timeout
		sleep(s, 2*time.Second) // backed off
		done <- s.Now().Sub(epoch)
	}()
	select {
	case simulated := <-done:
		if simulated != 3*time.Second {
			t.Fatalf("simulated elapsed %v, want 3s", simulated)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("timer chain did not complete in 10s of real time")
	}
	if real := time.Since(start); real >= 2*time.Second {
		t.Fatalf("real elapsed %v, want < 2s", real)
	}
}

func TestAutoAdvanceWaitsForQuiet(t *testing.T) {
	s := NewSim(epoch)
	var fired atomic.Bool
	s.AfterFunc(time.Second, func() { fired.Store(true) })

	const quiet = 100 * time.Millisecond
	stop := s.AutoAdvance(quiet)
	defer stop()

	// Keep the Sim busy for several quiet periods: nothing may fire.
	deadline := time.Now().Add(3 * quiet)
	for time.Now().Before(deadline) {
		s.Poke()
		time.Sleep(quiet / 50)
	}
	if fired.Load() {
		t.Fatal("timer fired while the Sim was busy")
	}
	if !s.Now().Equal(epoch) {
		t.Fatal("time moved while the Sim was busy")
	}

	// Once quiet, it fires.
	waitUntil(t, fired.Load)
	if got := s.Now().Sub(epoch); got != time.Second {
		t.Fatalf("Now = epoch+%v, want epoch+1s", got)
	}
}

func TestAutoAdvanceSleepsUntilTimerAdded(t *testing.T) {
	s := NewSim(epoch)
	stop := s.AutoAdvance(time.Millisecond)
	defer stop()

	// Nothing pending: time must stand still.
	time.Sleep(20 * time.Millisecond)
	if !s.Now().Equal(epoch) {
		t.Fatal("time moved with no timer pending")
	}
	var fired atomic.Bool
	s.AfterFunc(time.Hour, func() { fired.Store(true) })
	waitUntil(t, fired.Load)
	if got := s.Now().Sub(epoch); got != time.Hour {
		t.Fatalf("Now = epoch+%v, want epoch+1h", got)
	}
}

func TestAutoAdvanceQuietAfterEachJump(t *testing.T) {
	// Callbacks that wake goroutines without touching the Sim (closing a
	// channel, say) still get a quiet period before the next jump.
	s := NewSim(epoch)
	const quiet = 20 * time.Millisecond
	fired := make(chan time.Time, 2)
	s.AfterFunc(time.Second, func() { fired <- time.Now() })
	s.AfterFunc(2*time.Second, func() { fired <- time.Now() })
	stop := s.AutoAdvance(quiet)
	defer stop()
	first, second := <-fired, <-fired
	if gap := second.Sub(first); gap < quiet {
		t.Fatalf("second timer fired %v of real time after the first, want >= %v", gap, quiet)
	}
}

func TestAutoAdvanceStop(t *testing.T) {
	s := NewSim(epoch)
	stop := s.AutoAdvance(time.Millisecond)
	stop()
	stop() // idempotent

	var fired atomic.Bool
	s.AfterFunc(time.Second, func() { fired.Store(true) })
	time.Sleep(20 * time.Millisecond)
	if fired.Load() || s.Pending() != 1 {
		t.Fatal("time advanced after stop")
	}
}

// waitUntil polls cond for up to 5 s of real time.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
