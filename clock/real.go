package clock

import "time"

// Real is the wall clock of package time.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// AfterFunc returns the *time.Timer itself: it already has the Timer
// methods, so wrapping it would only cost an allocation.
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
