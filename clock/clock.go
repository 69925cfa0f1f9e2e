package clock

import "time"

// Clock is the time source of a stack: real or simulated.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine (Real) or in the advancing
	// goroutine (Sim) once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call made by AfterFunc. Its methods behave like those
// of the *time.Timer returned by time.AfterFunc: Stop reports whether it
// prevented the call, Reset re-arms the timer and reports whether it was
// still pending.
type Timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}
