package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/internal/simnet"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/tcp"
)

// The conversations are simnet applications: straight-line code on the
// stacks' non-blocking calls that waits, where a program would block, in
// await. The driver resumes them only after handing the stacks their
// packets or moving the clock, so what they do and when is fixed.

// await retries try until it reports done, waiting in between for the
// stacks to record something new (a segment, a state change): nothing
// else can change what try finds. It returns false if the driver stopped.
func (n *demoNet) await(w *simnet.Waiter, try func() bool) bool {
	for !try() {
		seen := n.events.Load()
		if !w.Until(func() bool { return n.events.Load() != seen }) {
			return false
		}
	}
	return true
}

// wouldBlock reports whether err is a non-blocking call's EAGAIN.
func wouldBlock(err error) bool { return errors.Is(err, syscall.EAGAIN) }

// readFull reads len(buf) bytes from c, waiting as io.ReadFull would.
func (n *demoNet) readFull(w *simnet.Waiter, c *threeway.Conn, buf []byte) error {
	got := 0
	var err error
	if !n.await(w, func() bool {
		var k int
		k, err = c.ReadNonblock(buf[got:])
		got += k
		return got == len(buf) || err != nil && !wouldBlock(err)
	}) {
		return simnet.ErrStopped
	}
	if got == len(buf) {
		return nil
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// read is one Read on c: it waits for data, EOF or an error.
func (n *demoNet) read(w *simnet.Waiter, c *threeway.Conn, buf []byte) (int, error) {
	var k int
	var err error
	if !n.await(w, func() bool {
		k, err = c.ReadNonblock(buf)
		return !wouldBlock(err)
	}) {
		return 0, simnet.ErrStopped
	}
	return k, err
}

// write queues all of p on c; the demo's messages fit the send buffer.
func write(c *threeway.Conn, p []byte) error {
	k, err := c.WriteNonblock(p)
	if err == nil && k < len(p) {
		err = fmt.Errorf("wrote %d of %d bytes", k, len(p))
	}
	return err
}

// dial starts an active open with d and waits for the handshake, as a
// blocking Dial would; with Fast Open it returns at once, as the
// handshake waits for the first write.
func (n *demoNet) dial(w *simnet.Waiter, d *threeway.Dialer, address string) (*threeway.Conn, error) {
	nd := *d
	nd.Nonblock = true // Dial returns in SYN-SENT; the wait is await's
	nc, err := nd.Dial("tcp", address)
	if err != nil {
		return nil, err
	}
	c := nc.(*threeway.Conn)
	if d.FastOpen {
		return c, nil
	}
	if !n.await(w, func() bool {
		st := c.State()
		return st != tcp.SynSent && st != tcp.SynReceived
	}) {
		c.Close()
		return nil, simnet.ErrStopped
	}
	// The errors a blocking Dial returns.
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if err := c.SocketError(); err != nil {
		c.Close()
		return nil, opErr(os.NewSyscallError("connect", err))
	}
	if c.State() == tcp.Closed {
		c.Close()
		return nil, opErr(net.ErrClosed)
	}
	return c, nil
}

// accept waits for a connection on ln.
func (n *demoNet) accept(w *simnet.Waiter, ln *threeway.Listener) (*threeway.Conn, error) {
	now, cancel := context.WithCancel(context.Background())
	cancel() // an accept that does not wait
	var c net.Conn
	var err error
	if !n.await(w, func() bool {
		c, err = ln.AcceptContext(now)
		return !errors.Is(err, context.Canceled)
	}) {
		return nil, simnet.ErrStopped
	}
	if err != nil {
		return nil, err
	}
	return c.(*threeway.Conn), nil
}

// echo is the default conversation: the client connects to the server's
// echo listener, sends a message, reads the echo, half-closes, reads the
// server's FIN and closes.
func (n *demoNet) echo() ([]simnet.App, error) { return n.echoTimes(1, false) }

// fastOpen is the --fastopen conversation (RFC 7413): the client makes
// two echo connections to a Fast Open listener. The first SYN asks for a
// cookie, which the SYN-ACK carries; the second SYN carries the cookie
// and the message, which the server reads before the handshake completes.
func (n *demoNet) fastOpen() ([]simnet.App, error) { return n.echoTimes(2, true) }

// echoTimes sets up the echo conversation, times times in a row against
// one listener, with Fast Open on both ends if fastOpen, and returns the
// client and the server.
func (n *demoNet) echoTimes(times int, fastOpen bool) ([]simnet.App, error) {
	cli, srv := n.stacks[ladder.Client], n.stacks[ladder.Server]
	n.rec.Initial(ladder.Client, "CLOSED")
	ln, err := srv.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(n.addrs[ladder.Server], echoPort)))
	if err != nil {
		return nil, err
	}
	if fastOpen {
		ln.SetFastOpen(4)
		n.rec.Initial(ladder.Server, fmt.Sprintf("LISTEN (port %d, Fast Open)", echoPort))
	} else {
		n.rec.Initial(ladder.Server, fmt.Sprintf("LISTEN (port %d)", echoPort))
	}
	serverDone := false
	client := func(w *simnet.Waiter) error {
		for range times {
			if err := n.echoClient(w, cli, fastOpen); err != nil {
				return err
			}
		}
		// The listener stays open until the server is done too.
		if !w.Until(func() bool { return serverDone }) {
			return simnet.ErrStopped
		}
		return ln.Close()
	}
	server := func(w *simnet.Waiter) error {
		defer func() { serverDone = true }()
		for range times {
			if err := n.echoServer(w, ln); err != nil {
				return err
			}
		}
		return nil
	}
	return []simnet.App{client, server}, nil
}

// echoClient connects, sends clientMsg, reads the echo, half-closes,
// reads the server's FIN and closes. With fastOpen the Dial returns at
// once and the Write rides in the SYN (RFC 7413).
func (n *demoNet) echoClient(w *simnet.Waiter, st *threeway.Stack, fastOpen bool) error {
	rec := n.rec
	if fastOpen {
		rec.Note(ladder.Client, "Dial() with Fast Open")
	} else {
		rec.Note(ladder.Client, "Dial()")
	}
	c, err := n.dial(w, &threeway.Dialer{Stack: st, FastOpen: fastOpen}, n.hostPort(ladder.Server, echoPort))
	if err != nil {
		return err
	}
	defer c.Close()
	if !fastOpen {
		n.negotiated(ladder.Client, c)
	}

	rec.Note(ladder.Client, fmt.Sprintf("Write(%d bytes)", len(clientMsg)))
	if err := write(c, []byte(clientMsg)); err != nil {
		return err
	}
	buf := make([]byte, len(clientMsg))
	if err := n.readFull(w, c, buf); err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	rec.Note(ladder.Client, fmt.Sprintf("Read() = %d bytes", len(buf)))
	if fastOpen {
		// The handshake is done only now: Dial returned before it.
		n.negotiated(ladder.Client, c)
	}
	if string(buf) != clientMsg {
		return fmt.Errorf("echo = %q, want %q", buf, clientMsg)
	}
	rec.Note(ladder.Client, "CloseWrite()")
	if err := c.CloseWrite(); err != nil {
		return err
	}
	k, err := n.read(w, c, make([]byte, 1))
	if k > 0 {
		return fmt.Errorf("unexpected data after the echo")
	}
	if err != io.EOF {
		return err
	}
	rec.Note(ladder.Client, "Read() = EOF")
	rec.Note(ladder.Client, "Close()")
	return c.Close()
}

// echoServer accepts one connection and echoes it until EOF.
func (n *demoNet) echoServer(w *simnet.Waiter, ln *threeway.Listener) error {
	rec := n.rec
	c, err := n.accept(w, ln)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer c.Close()
	rec.Note(ladder.Server, "Accept()")
	n.negotiated(ladder.Server, c)
	buf := make([]byte, 1024)
	for {
		k, err := n.read(w, c, buf)
		if k > 0 {
			rec.Note(ladder.Server, fmt.Sprintf("Read() = %d bytes", k))
			rec.Note(ladder.Server, fmt.Sprintf("Write(%d bytes)", k))
			if werr := write(c, buf[:k]); werr != nil {
				return fmt.Errorf("echo server: %w", werr)
			}
		}
		if err == io.EOF {
			rec.Note(ladder.Server, "Read() = EOF")
			rec.Note(ladder.Server, "Close()")
			return c.Close()
		}
		if err != nil {
			return fmt.Errorf("echo server: %w", err)
		}
	}
}

// simultaneous is the --simultaneous conversation: both hosts dial each
// other from fixed ports at the same instant, their SYNs cross, each
// sends a message, reads the other's, and closes.
func (n *demoNet) simultaneous() ([]simnet.App, error) {
	for s := range 2 {
		n.rec.Initial(ladder.Side(s), "CLOSED")
	}
	return []simnet.App{
		func(w *simnet.Waiter) error { return n.peer(w, ladder.Client) },
		func(w *simnet.Waiter) error { return n.peer(w, ladder.Server) },
	}, nil
}

// peer is one host of the simultaneous open: it dials the other from its
// fixed port, writes its message, reads the other's and closes.
func (n *demoNet) peer(w *simnet.Waiter, s ladder.Side) error {
	ports := [2]uint16{simPortA, simPortB}
	msgs := [2]string{clientMsg, serverMsg}
	rec := n.rec
	rec.Note(s, "Dial(from port "+strconv.Itoa(int(ports[s]))+")")
	d := &threeway.Dialer{Stack: n.stacks[s], LocalAddr: netip.AddrPortFrom(n.addrs[s], ports[s])}
	c, err := n.dial(w, d, n.hostPort(s.Other(), ports[s.Other()]))
	if err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	defer c.Close()
	n.negotiated(s, c)

	rec.Note(s, fmt.Sprintf("Write(%d bytes)", len(msgs[s])))
	if err := write(c, []byte(msgs[s])); err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	buf := make([]byte, len(msgs[s.Other()]))
	if err := n.readFull(w, c, buf); err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	rec.Note(s, fmt.Sprintf("Read() = %d bytes", len(buf)))
	rec.Note(s, "Close()")
	return c.Close()
}
