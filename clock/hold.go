package clock

// Holder is a clock that can be kept from moving on its own: a *Sim's
// AutoAdvance waits while anyone holds it. Parts of a system that are busy
// in ways the clock cannot see (a packet queued but not yet read, a stack
// processing a batch) hold it, so simulated time never jumps past work
// that is about to happen, and a conversation runs the same every time.
type Holder interface {
	Hold()
	Release()
}

var _ Holder = (*Sim)(nil)

// Hold keeps AutoAdvance from advancing until the matching Release;
// holds nest.
func (s *Sim) Hold() { s.holds.Add(1) }

// Release ends one Hold. It counts as activity, so AutoAdvance still waits
// a quiet period after the last release.
func (s *Sim) Release() {
	s.touch()
	if s.holds.Add(-1) < 0 {
		panic("clock: Release without Hold")
	}
}
