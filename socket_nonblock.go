package threeway

import "syscall"

// ReadNonblock is Read without waiting, as on a non-blocking socket: it
// returns what is already received, or an error wrapping syscall.EAGAIN
// when there is nothing yet; io.EOF after the peer's FIN.
func (c *Conn) ReadNonblock(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	n, err := c.readOnce(p)
	if err == errWouldBlock {
		return 0, c.opError("read", syscall.EAGAIN)
	}
	return n, err
}

// WriteNonblock is Write without waiting: it queues what fits in the send
// buffer and returns how much, or an error wrapping syscall.EAGAIN when
// nothing fits.
func (c *Conn) WriteNonblock(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n, err := c.writeOnce(p)
	if err == errWouldBlock {
		return 0, c.opError("write", syscall.EAGAIN)
	}
	return n, err
}

// SocketError returns the error that ended the connection (SO_ERROR):
// ECONNREFUSED, ECONNRESET, ETIMEDOUT and the like, as a syscall.Errno,
// or nil while it has none. After a Dialer.Nonblock dial it is how a
// failed handshake is told apart from one still running.
func (c *Conn) SocketError() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.Err()
}
