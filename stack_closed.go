package threeway

import "net"

// ErrStackClosed is the error under every dial, listen and forward call
// made after Stack.Close; the dial and listen calls wrap it in a
// *net.OpError, as package net does. It wraps net.ErrClosed, so
// errors.Is(err, net.ErrClosed) holds as it does for a closed net socket,
// and errors.Is(err, ErrStackClosed) tells the stack's end apart from a
// closed connection's.
var ErrStackClosed error = stackClosedError{}

type stackClosedError struct{}

func (stackClosedError) Error() string { return "threeway: stack closed" }
func (stackClosedError) Unwrap() error { return net.ErrClosed }
