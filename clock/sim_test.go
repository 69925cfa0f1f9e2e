package clock

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// recorder notes which callbacks ran and what the clock said when they did.
type recorder struct {
	s   *Sim
	got []string
}

func (r *recorder) fn(name string) func() {
	return func() {
		r.got = append(r.got, fmt.Sprintf("%s@%v", name, r.s.Now().Sub(epoch)))
	}
}

func (r *recorder) want(t *testing.T, want ...string) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(r.got, want) {
		t.Fatalf("fired %q, want %q", r.got, want)
	}
}

func TestSimOrdering(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	s.AfterFunc(3*time.Second, r.fn("c"))
	s.AfterFunc(1*time.Second, r.fn("a"))
	s.AfterFunc(2*time.Second, r.fn("b"))
	s.AfterFunc(5*time.Second, r.fn("d"))

	s.Advance(999 * time.Millisecond)
	r.want(t)
	s.Advance(2001 * time.Millisecond)
	r.want(t, "a@1s", "b@2s", "c@3s")
	if got := s.Now().Sub(epoch); got != 3*time.Second {
		t.Fatalf("Now after Advance = epoch+%v, want epoch+3s", got)
	}
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", s.Pending())
	}
}

func TestSimTiesRunInCreationOrder(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	for _, name := range []string{"e", "b", "d", "a", "c"} {
		s.AfterFunc(time.Second, r.fn(name))
	}
	s.Advance(time.Second)
	r.want(t, "e@1s", "b@1s", "d@1s", "a@1s", "c@1s")
}

func TestSimCallbacksScheduleDuringAdvance(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	s.AfterFunc(time.Second, func() {
		r.fn("first")()
		s.AfterFunc(0, r.fn("now"))
		s.AfterFunc(-time.Second, r.fn("past"))
		s.AfterFunc(time.Second, r.fn("later"))
		s.AfterFunc(10*time.Second, r.fn("beyond"))
	})
	s.AfterFunc(1500*time.Millisecond, r.fn("middle"))

	s.Advance(3 * time.Second)
	r.want(t, "first@1s", "now@1s", "past@1s", "middle@1.5s", "later@2s")
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1 (beyond)", s.Pending())
	}
	if next, ok := s.Next(); !ok || next.Sub(epoch) != 11*time.Second {
		t.Fatalf("Next = %v, %v; want epoch+11s", next.Sub(epoch), ok)
	}
}

func TestSimCallbackStopsTimerDueAtSameTime(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	var victim Timer
	s.AfterFunc(time.Second, func() {
		if !victim.Stop() {
			t.Error("Stop of a pending timer from a callback returned false")
		}
	})
	victim = s.AfterFunc(time.Second, r.fn("victim"))
	s.Advance(time.Second)
	r.want(t)
}

func TestSimStop(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	tm := s.AfterFunc(time.Second, r.fn("stopped"))
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
	fired := s.AfterFunc(time.Second, r.fn("fired"))
	s.Advance(2 * time.Second)
	r.want(t, "fired@1s")
	if fired.Stop() {
		t.Fatal("Stop of a fired timer returned true")
	}
	if s.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", s.Pending())
	}
}

func TestSimReset(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}

	tm := s.AfterFunc(time.Second, r.fn("x"))
	if !tm.Reset(3 * time.Second) {
		t.Fatal("Reset of a pending timer returned false")
	}
	s.Advance(2 * time.Second)
	r.want(t) // moved from 1s to 3s
	s.Advance(time.Second)
	r.want(t, "x@3s")

	// A fired timer can be re-armed, and says it was not pending.
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer returned true")
	}
	s.Advance(time.Second)
	r.want(t, "x@3s", "x@4s")

	// So can a stopped one.
	tm.Reset(time.Second)
	tm.Stop()
	if tm.Reset(2 * time.Second) {
		t.Fatal("Reset of a stopped timer returned true")
	}
	s.Advance(2 * time.Second)
	r.want(t, "x@3s", "x@4s", "x@6s")
	if s.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", s.Pending())
	}
}

func TestSimResetLosesTiePlace(t *testing.T) {
	// A Reset timer counts as created at the Reset, so it fires after
	// timers created earlier with the same deadline.
	s := NewSim(epoch)
	r := &recorder{s: s}
	a := s.AfterFunc(time.Second, r.fn("a"))
	s.AfterFunc(time.Second, r.fn("b"))
	a.Reset(time.Second)
	s.Advance(time.Second)
	r.want(t, "b@1s", "a@1s")
}

func TestSimAdvanceToNext(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	if s.AdvanceToNext() {
		t.Fatal("AdvanceToNext with nothing pending returned true")
	}
	if _, ok := s.Next(); ok {
		t.Fatal("Next with nothing pending returned ok")
	}
	if !s.Now().Equal(epoch) {
		t.Fatal("AdvanceToNext with nothing pending moved time")
	}
	s.AfterFunc(7*time.Second, r.fn("c"))
	s.AfterFunc(5*time.Second, r.fn("a"))
	s.AfterFunc(5*time.Second, func() {
		r.fn("b")()
		s.AfterFunc(0, r.fn("b0"))
	})
	if n := s.Pending(); n != 3 {
		t.Fatalf("Pending = %d, want 3", n)
	}
	if !s.AdvanceToNext() {
		t.Fatal("AdvanceToNext returned false with timers pending")
	}
	r.want(t, "a@5s", "b@5s", "b0@5s")
	if got := s.Now().Sub(epoch); got != 5*time.Second {
		t.Fatalf("Now = epoch+%v, want epoch+5s", got)
	}
	if !s.AdvanceToNext() || s.AdvanceToNext() {
		t.Fatal("want exactly one more AdvanceToNext")
	}
	r.want(t, "a@5s", "b@5s", "b0@5s", "c@7s")
}

func TestSimNegativeAdvanceRunsDueTimers(t *testing.T) {
	s := NewSim(epoch)
	r := &recorder{s: s}
	s.AfterFunc(0, r.fn("zero"))
	s.Advance(-time.Second)
	r.want(t, "zero@0s")
	if !s.Now().Equal(epoch) {
		t.Fatal("negative Advance moved time")
	}
}

func TestNewSimDropsMonotonicReading(t *testing.T) {
	start := time.Now()
	s := NewSim(start)
	if got := s.Now(); got != start.Round(0) {
		t.Fatalf("Now = %#v, want the wall reading of %v only", got, start)
	}
}
