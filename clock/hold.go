package clock

// Holder was a clock that could be kept from moving on its own, for a
// simulated clock that advanced after a quiet period of real time. Nothing
// implements it any more: simulated time is moved by a synctest bubble (the
// tests) or by a driver that knows when everything is idle
// (internal/simnet). The runtime still asks its clock for it (stack.go's
// holdClock, a no-op now) until the sans-I/O host replaces that code.
type Holder interface {
	Hold()
	Release()
}
