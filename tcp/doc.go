// Package tcp is threeway's sans-I/O TCP protocol core: a connection is a
// plain struct (the TCB of RFC 9293 §3.3.1) fed parsed segments and the
// current time, which appends the segments it wants sent to an Output and
// reports its next deadline. It has no goroutines, no clock, no locks and
// no I/O, so every rule can be tested segment by segment.
//
// Time is a time.Duration measured from an origin the caller chooses; it
// must never go backwards.
package tcp
