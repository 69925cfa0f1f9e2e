package clock

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSimConcurrent hammers a Sim from many goroutines while another
// advances it, then checks that the fired count matches what Stop and
// Reset reported: a successful Stop prevents one call, and a Reset that
// finds the timer already fired arms it for another.
func TestSimConcurrent(t *testing.T) {
	s := NewSim(epoch)
	const workers, perWorker = 8, 200

	var fired, stopped, rearmed atomic.Int64
	var wg sync.WaitGroup
	quit := make(chan struct{})
	advancerDone := make(chan struct{})
	go func() {
		defer close(advancerDone)
		for {
			select {
			case <-quit:
				return
			default:
				s.Advance(time.Millisecond)
			}
		}
	}()

	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 0))
			for range perWorker {
				d := time.Duration(rng.IntN(50)) * time.Millisecond
				tm := s.AfterFunc(d, func() {
					fired.Add(1)
					_ = s.Now()
				})
				switch rng.IntN(3) {
				case 0:
					if tm.Stop() {
						stopped.Add(1)
					}
				case 1:
					if !tm.Reset(d) {
						rearmed.Add(1)
					}
				}
				_ = s.Pending()
			}
		}()
	}
	wg.Wait()
	close(quit)
	<-advancerDone
	s.Advance(time.Hour)

	if s.Pending() != 0 {
		t.Fatalf("Pending = %d after advancing an hour", s.Pending())
	}
	want := int64(workers*perWorker) - stopped.Load() + rearmed.Load()
	if got := fired.Load(); got != want {
		t.Fatalf("fired %d calls, want %d (%d stopped, %d re-armed after firing)",
			got, want, stopped.Load(), rearmed.Load())
	}
}

// TestSimConcurrentAdvanceNeverGoesBack runs two advancers at once and
// checks that every callback sees a time at or after its deadline and
// that Now never decreases.
func TestSimConcurrentAdvanceNeverGoesBack(t *testing.T) {
	s := NewSim(epoch)
	var bad atomic.Int64
	for i := range 1000 {
		d := time.Duration(i%100) * time.Millisecond
		want := epoch.Add(d)
		s.AfterFunc(d, func() {
			if s.Now().Before(want) {
				bad.Add(1)
			}
		})
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := s.Now()
			for range 120 {
				s.Advance(time.Millisecond)
				now := s.Now()
				if now.Before(last) {
					bad.Add(1)
				}
				last = now
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d observations of time going backwards", bad.Load())
	}
	if s.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", s.Pending())
	}
}
