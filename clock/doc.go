// Package clock is the time source of a threeway stack: either the real
// clock of package time or a simulated clock that tests move by hand.
//
// Everything in a stack that waits (retransmission timers, delayed ACKs,
// link delays) asks a Clock, so a test can swap in a *Sim and run
// minutes of protocol time in milliseconds, deterministically.
package clock
