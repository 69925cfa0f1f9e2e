package clock

import (
	"testing"
	"time"
)

// AutoAdvance does not move a held clock, and moves it once released.
func TestHoldStopsAutoAdvance(t *testing.T) {
	s := NewSim(epoch)
	fired := make(chan struct{})
	s.AfterFunc(time.Hour, func() { close(fired) })
	s.Hold()
	stop := s.AutoAdvance(time.Millisecond)
	defer stop()
	select {
	case <-fired:
		t.Fatal("a held clock advanced")
	case <-time.After(50 * time.Millisecond):
	}
	s.Release()
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("the released clock never advanced")
	}
	if got := s.Now().Sub(epoch); got != time.Hour {
		t.Fatalf("advanced by %v", got)
	}
}

func TestReleaseWithoutHoldPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewSim(epoch).Release()
}
