package clock

import (
	"testing"
	"time"
)

func TestRealAfterFunc(t *testing.T) {
	before := Real.Now()
	fired := make(chan time.Time, 1)
	Real.AfterFunc(time.Millisecond, func() { fired <- Real.Now() })
	select {
	case at := <-fired:
		if at.Sub(before) < time.Millisecond {
			t.Fatalf("fired after %v, want >= 1ms", at.Sub(before))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Real timer never fired")
	}
}

func TestRealStopAndReset(t *testing.T) {
	fired := make(chan struct{}, 2)
	tm := Real.AfterFunc(time.Hour, func() { fired <- struct{}{} })
	if !tm.Stop() {
		t.Fatal("Stop of a pending Real timer returned false")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
	if tm.Reset(time.Millisecond) {
		t.Fatal("Reset of a stopped Real timer returned true")
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("reset Real timer never fired")
	}
}
