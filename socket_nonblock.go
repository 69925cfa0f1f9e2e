package threeway

import (
	"io"
	"net"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// ReadNonblock is Read without waiting, as on a non-blocking socket: it
// returns what is already received, or an error wrapping syscall.EAGAIN
// when there is nothing yet; io.EOF after the peer's FIN.
func (c *Conn) ReadNonblock(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	switch {
	case c.closed.Load():
		return 0, c.opError("read", net.ErrClosed)
	case c.readClosed.Load():
		return 0, io.EOF
	}
	var n int
	var err error
	c.do(func(time.Duration) { n, err = c.tcb.Read(p) })
	if n > 0 || err != nil {
		if err == tcp.ErrNotConnected {
			err = net.ErrClosed
		}
		return n, c.opError("read", err)
	}
	return 0, c.opError("read", syscall.EAGAIN)
}

// WriteNonblock is Write without waiting: it queues what fits in the send
// buffer and returns how much, or an error wrapping syscall.EAGAIN when
// nothing fits.
func (c *Conn) WriteNonblock(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closed.Load() {
		return 0, c.opError("write", net.ErrClosed)
	}
	var n int
	var err error
	c.do(func(time.Duration) { n, err = c.tcb.Write(p) })
	if err != nil {
		if err == tcp.ErrNotConnected {
			err = syscall.EPIPE
		}
		return n, c.opError("write", err)
	}
	if n == 0 && len(p) > 0 {
		return 0, c.opError("write", syscall.EAGAIN)
	}
	return n, nil
}
