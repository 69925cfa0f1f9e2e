package threeway

import (
	"net"
	"sync/atomic"
	"time"
)

// deadlines are a socket's read and write deadlines, as package net's
// SetDeadline, SetReadDeadline and SetWriteDeadline set them, and the
// channels that wake a blocked reader or writer when one changes. Conn,
// UDPConn and PingConn embed them; a socket that never blocks a writer
// leaves wwait nil.
type deadlines struct {
	done                 <-chan struct{} // the stack's: closed by Stack.Close
	rwait, wwait         chan struct{}
	rdeadline, wdeadline atomic.Int64 // unix nanoseconds of the stack's clock; 0 = none
}

// SetDeadline sets the read and write deadlines, in the stack clock's time.
func (d *deadlines) SetDeadline(t time.Time) error {
	if err := d.SetReadDeadline(t); err != nil {
		return err
	}
	return d.SetWriteDeadline(t)
}

// errDeadlineClosed is the error of setting a deadline after Stack.Close.
var errDeadlineClosed = &net.OpError{Op: "set", Err: net.ErrClosed}

func (d *deadlines) stackClosed() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// SetReadDeadline sets the read deadline; a blocked Read rechecks it.
func (d *deadlines) SetReadDeadline(t time.Time) error {
	if d.stackClosed() {
		return errDeadlineClosed
	}
	setDeadline(&d.rdeadline, t)
	notify(d.rwait)
	return nil
}

// SetWriteDeadline sets the write deadline; a blocked Write rechecks it.
func (d *deadlines) SetWriteDeadline(t time.Time) error {
	if d.stackClosed() {
		return errDeadlineClosed
	}
	setDeadline(&d.wdeadline, t)
	notify(d.wwait)
	return nil
}

// setDeadline stores t as Unix nanoseconds, 0 meaning none; a deadline
// that happens to be the Unix epoch is stored as 1 ns after it, still
// long past.
func setDeadline(a *atomic.Int64, t time.Time) {
	if t.IsZero() {
		a.Store(0)
	} else {
		a.Store(max(t.UnixNano(), 1))
	}
}
