package threeway

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
)

// Conn is a TCP connection on a Stack. It implements net.Conn, plus the
// *net.TCPConn methods programs use: CloseWrite, CloseRead, SetNoDelay,
// SetLinger, SetReadBuffer, SetWriteBuffer.
type Conn struct {
	s   *Stack
	hc  *host.Conn
	tcb *tcp.Conn // hc's
	// tuple is tcb's, read by the tests' tracers.
	tuple tcp.Tuple

	deadlines
	rtimer     clock.Timer // guarded by readMu
	wtimer     clock.Timer // guarded by writeMu
	readMu     sync.Mutex
	writeMu    sync.Mutex
	closed     atomic.Bool
	readClosed atomic.Bool
	linger0    atomic.Bool
}

func (c *Conn) wakeAll() {
	notify(c.rwait)
	notify(c.wwait)
}

// LocalAddr returns the local endpoint as a *net.TCPAddr.
func (c *Conn) LocalAddr() net.Addr {
	t := c.tcb.Tuple() // fixed when the TCB was made: no lock needed
	return net.TCPAddrFromAddrPort(netipAddrPort(t.LocalAddr, t.LocalPort))
}

// RemoteAddr returns the remote endpoint as a *net.TCPAddr.
func (c *Conn) RemoteAddr() net.Addr {
	t := c.tcb.Tuple()
	return net.TCPAddrFromAddrPort(netipAddrPort(t.RemoteAddr, t.RemotePort))
}

// State returns the connection's current TCP state.
func (c *Conn) State() tcp.State {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.State()
}

// Info returns a snapshot of the connection's TCP state: RTT, window,
// congestion and byte counts, Linux's tcp_info under Go names.
func (c *Conn) Info() tcp.Info {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.Info()
}

// Negotiated returns the options the handshake agreed on.
func (c *Conn) Negotiated() tcp.Negotiated {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.Negotiated()
}

func (c *Conn) opError(op string, err error) error {
	if err == nil {
		return nil
	}
	switch err {
	case io.EOF, os.ErrDeadlineExceeded, net.ErrClosed:
	default:
		if errno, ok := err.(syscall.Errno); ok {
			err = os.NewSyscallError(syscallName(op), errno)
		}
	}
	if err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

func syscallName(op string) string {
	switch op {
	case "dial":
		return "connect"
	}
	return op
}

// do runs f on the connection under the stack lock, then lets the host
// send what it produced and report its events. After Stack.Close it
// does nothing and reports false.
func (c *Conn) do(f func(now time.Duration)) bool {
	s := c.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	now := s.now()
	f(now)
	s.host.Touch(c.hc)
	s.flushLocked(now)
	s.unlock()
	return true
}

// doOp is do for a setter: an error wrapping net.ErrClosed after
// Stack.Close.
func (c *Conn) doOp(op string, f func(now time.Duration)) error {
	if !c.do(f) {
		return c.opError(op, net.ErrClosed)
	}
	return nil
}

// wait blocks until ch is signalled, the deadline passes (false), or the
// stack closes. *tp is the direction's deadline timer, made on first use
// and reset afterwards, so waiting with a deadline does not allocate.
func (c *Conn) wait(ch chan struct{}, dl *atomic.Int64, tp *clock.Timer) bool {
	d := dl.Load()
	if d != 0 {
		left := time.Unix(0, d).Sub(c.s.clk.Now())
		if left <= 0 {
			return false
		}
		if *tp == nil {
			*tp = c.s.clk.AfterFunc(left, func() { notify(ch) })
		} else {
			(*tp).Reset(left)
		}
	}
	select {
	case <-ch:
	case <-c.s.done:
	}
	if d != 0 {
		(*tp).Stop()
	}
	return true
}

func (c *Conn) expired(dl *atomic.Int64) bool {
	d := dl.Load()
	return d != 0 && !c.s.clk.Now().Before(time.Unix(0, d))
}

// errWouldBlock is readOnce's and writeOnce's "nothing yet".
var errWouldBlock = syscall.EAGAIN

// readOnce is one read attempt that does not wait: data, a final error,
// or errWouldBlock. The caller holds readMu.
func (c *Conn) readOnce(p []byte) (int, error) {
	switch {
	case c.closed.Load() || c.s.isClosed():
		return 0, c.opError("read", net.ErrClosed)
	case c.readClosed.Load():
		return 0, io.EOF
	}
	var n int
	var err error
	if !c.do(func(time.Duration) { n, err = c.tcb.Read(p) }) {
		return 0, c.opError("read", net.ErrClosed)
	}
	switch {
	case err == tcp.ErrNotConnected:
		return n, c.opError("read", net.ErrClosed)
	case n > 0 || err != nil:
		return n, c.opError("read", err)
	}
	return 0, errWouldBlock
}

// Read reads data; it returns io.EOF after the peer's FIN.
func (c *Conn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if len(p) == 0 && !c.closed.Load() {
		return 0, nil
	}
	for {
		// As in package net, an expired deadline fails the call even
		// when data is waiting.
		if c.expired(&c.rdeadline) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		n, err := c.readOnce(p)
		if err != errWouldBlock {
			return n, err
		}
		if c.expired(&c.rdeadline) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if c.isStackClosed() {
			return 0, c.opError("read", net.ErrClosed)
		}
		c.wait(c.rwait, &c.rdeadline, &c.rtimer)
	}
}

func (c *Conn) isStackClosed() bool { return c.s.isClosed() }

// writeOnce queues what fits of p without waiting: the count, a final
// error, or errWouldBlock when nothing fits. The caller holds writeMu.
func (c *Conn) writeOnce(p []byte) (int, error) {
	if c.closed.Load() || c.s.isClosed() {
		return 0, c.opError("write", net.ErrClosed)
	}
	var n int
	var err error
	if !c.do(func(time.Duration) { n, err = c.tcb.Write(p) }) {
		return 0, c.opError("write", net.ErrClosed)
	}
	switch {
	case err == tcp.ErrNotConnected:
		return n, c.opError("write", syscall.EPIPE)
	case err != nil:
		return n, c.opError("write", err)
	case n == 0 && len(p) > 0:
		return 0, errWouldBlock
	}
	return n, nil
}

// Write writes all of p unless an error or deadline stops it.
func (c *Conn) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	written := 0
	for {
		if c.expired(&c.wdeadline) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		n, err := c.writeOnce(p[written:])
		written += n
		if err != nil && err != errWouldBlock {
			return written, err
		}
		if written == len(p) {
			return written, nil
		}
		if c.expired(&c.wdeadline) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		if c.isStackClosed() {
			return written, c.opError("write", net.ErrClosed)
		}
		c.wait(c.wwait, &c.wdeadline, &c.wtimer)
	}
}

// Close closes the connection: a FIN after the queued data, or a RST if
// unread data is discarded or SetLinger(0) was called. It does not wait.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	err := c.doOp("close", func(now time.Duration) {
		if c.linger0.Load() {
			c.s.host.AbortConn(now, c.hc)
		} else {
			c.s.host.CloseConn(now, c.hc)
		}
	})
	c.wakeAll()
	return err
}

// CloseWrite sends a FIN after the queued data (a half-close).
func (c *Conn) CloseWrite() error {
	if c.closed.Load() {
		return c.opError("close", net.ErrClosed)
	}
	return c.doOp("close", func(now time.Duration) { c.tcb.CloseWrite(now) })
}

// CloseRead makes further reads return io.EOF.
func (c *Conn) CloseRead() error {
	if c.closed.Load() || c.s.isClosed() {
		return c.opError("close", net.ErrClosed)
	}
	c.readClosed.Store(true)
	notify(c.rwait)
	return nil
}

// SetLinger(0) makes Close abort the connection with a RST (RFC 9293
// §3.10.5). Other values keep the default graceful close.
func (c *Conn) SetLinger(sec int) error {
	if c.s.isClosed() {
		return c.opError("set", net.ErrClosed)
	}
	c.linger0.Store(sec == 0)
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true, the default as in Go) or on.
func (c *Conn) SetNoDelay(noDelay bool) error {
	return c.doOp("set", func(time.Duration) { c.tcb.SetNoDelay(noDelay) })
}

// SetSynRetries sets how many times the connection's SYN is sent again
// before the connect fails with ETIMEDOUT (Linux's TCP_SYNCNT); zero
// means the stack's TCP.SynRetries.
func (c *Conn) SetSynRetries(n int) {
	c.do(func(time.Duration) { c.tcb.SetSynRetries(n) })
}

// SetReadBuffer sets the receive buffer size; effective before the handshake.
func (c *Conn) SetReadBuffer(n int) error {
	return c.doOp("set", func(time.Duration) { c.tcb.SetBuffers(0, n) })
}

// SetWriteBuffer sets the send buffer size; effective before the handshake.
func (c *Conn) SetWriteBuffer(n int) error {
	return c.doOp("set", func(time.Duration) { c.tcb.SetBuffers(n, 0) })
}
