package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/ladder"
)

// echo is the default conversation: the client connects to the server's
// echo listener, sends a message, reads the echo, half-closes, reads the
// server's FIN and closes.
func (n *demoNet) echo(ctx context.Context) error { return n.echoTimes(ctx, 1, false) }

// fastOpen is the --fastopen conversation (RFC 7413): the client makes
// two echo connections to a Fast Open listener. The first SYN asks for a
// cookie, which the SYN-ACK carries; the second SYN carries the cookie
// and the message, which the server reads before the handshake completes.
func (n *demoNet) fastOpen(ctx context.Context) error { return n.echoTimes(ctx, 2, true) }

// echoTimes runs the echo conversation times times in a row against one
// listener, with Fast Open on both ends if fastOpen.
func (n *demoNet) echoTimes(ctx context.Context, times int, fastOpen bool) error {
	cli, srv := n.stacks[ladder.Client], n.stacks[ladder.Server]
	n.startClock()
	n.rec.Initial(ladder.Client, "CLOSED")
	ln, err := srv.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(n.addrs[ladder.Server], echoPort)))
	if err != nil {
		return err
	}
	defer ln.Close()
	if fastOpen {
		ln.SetFastOpen(4)
		n.rec.Initial(ladder.Server, fmt.Sprintf("LISTEN (port %d, Fast Open)", echoPort))
	} else {
		n.rec.Initial(ladder.Server, fmt.Sprintf("LISTEN (port %d)", echoPort))
	}

	srvErr := make(chan error, 1)
	n.gate.start(ladder.Server)
	go func() {
		defer n.gate.stop(ladder.Server)
		for range times {
			if err := n.echoServer(ctx, ln); err != nil {
				srvErr <- err
				return
			}
		}
		srvErr <- nil
	}()

	n.gate.start(ladder.Client)
	for range times {
		if err = n.echoClient(ctx, cli, fastOpen); err != nil {
			break
		}
	}
	n.gate.stop(ladder.Client)
	if err != nil {
		return err
	}
	select {
	case err := <-srvErr:
		return err
	case <-ctx.Done():
		return fmt.Errorf("echo server: %w", ctx.Err())
	}
}

// echoClient connects, sends clientMsg, reads the echo, half-closes,
// reads the server's FIN and closes. Around each call that may block it
// tells the gate. With fastOpen the Dial returns at once and the Write
// rides in the SYN (RFC 7413).
func (n *demoNet) echoClient(ctx context.Context, st *threeway.Stack, fastOpen bool) error {
	rec, g := n.rec, &n.gate
	if fastOpen {
		rec.Note(ladder.Client, "Dial() with Fast Open")
	} else {
		rec.Note(ladder.Client, "Dial()")
	}
	resume := g.wait(ladder.Client)
	d := &threeway.Dialer{Stack: st, FastOpen: fastOpen}
	nc, err := d.DialContext(ctx, "tcp", n.hostPort(ladder.Server, echoPort))
	resume()
	if err != nil {
		return err
	}
	c := nc.(*threeway.Conn)
	defer c.Close()
	if !fastOpen {
		n.negotiated(ladder.Client, c)
	}

	rec.Note(ladder.Client, fmt.Sprintf("Write(%d bytes)", len(clientMsg)))
	if _, err := c.Write([]byte(clientMsg)); err != nil {
		return err
	}
	buf := make([]byte, len(clientMsg))
	resume = g.wait(ladder.Client)
	_, err = io.ReadFull(c, buf)
	resume()
	if err != nil {
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
	resume = g.wait(ladder.Client)
	rest, err := io.ReadAll(c)
	resume()
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected data after the echo: %q", rest)
	}
	rec.Note(ladder.Client, "Read() = EOF")
	rec.Note(ladder.Client, "Close()")
	return c.Close()
}

// echoServer accepts one connection and echoes it until EOF.
func (n *demoNet) echoServer(ctx context.Context, ln *threeway.Listener) error {
	rec, g := n.rec, &n.gate
	resume := g.wait(ladder.Server)
	nc, err := ln.AcceptContext(ctx)
	resume()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	c := nc.(*threeway.Conn)
	defer c.Close()
	rec.Note(ladder.Server, "Accept()")
	n.negotiated(ladder.Server, c)
	buf := make([]byte, 1024)
	for {
		resume := g.wait(ladder.Server)
		k, err := c.Read(buf)
		resume()
		if k > 0 {
			rec.Note(ladder.Server, fmt.Sprintf("Read() = %d bytes", k))
			rec.Note(ladder.Server, fmt.Sprintf("Write(%d bytes)", k))
			if _, werr := c.Write(buf[:k]); werr != nil {
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
func (n *demoNet) simultaneous(ctx context.Context) error {
	for s := range 2 {
		n.rec.Initial(ladder.Side(s), "CLOSED")
	}
	done := make(chan error, 2)
	for s := range 2 {
		n.gate.start(ladder.Side(s))
		go func() {
			defer n.gate.stop(ladder.Side(s))
			done <- n.peer(ctx, ladder.Side(s))
		}()
	}
	// Simulated time stands still until both SYNs are out, so that
	// neither reaches a host that has not dialed yet.
	both := func(evs []ladder.Event) bool { return sentSYN(ladder.Client)(evs) && sentSYN(ladder.Server)(evs) }
	if err := n.rec.Wait(ctx, both); err != nil {
		return fmt.Errorf("waiting for both SYNs: %w", err)
	}
	n.startClock()
	var errs []error
	for range 2 {
		if err := <-done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// peer is one host of the simultaneous open: it dials the other from its
// fixed port, writes its message, reads the other's and closes.
func (n *demoNet) peer(ctx context.Context, s ladder.Side) error {
	ports := [2]uint16{simPortA, simPortB}
	msgs := [2]string{clientMsg, serverMsg}
	rec, g := n.rec, &n.gate
	rec.Note(s, "Dial(from port "+strconv.Itoa(int(ports[s]))+")")
	resume := g.wait(s)
	d := &threeway.Dialer{Stack: n.stacks[s], LocalAddr: netip.AddrPortFrom(n.addrs[s], ports[s])}
	nc, err := d.DialContext(ctx, "tcp", n.hostPort(s.Other(), ports[s.Other()]))
	resume()
	if err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	c := nc.(*threeway.Conn)
	defer c.Close()
	n.negotiated(s, c)

	rec.Note(s, fmt.Sprintf("Write(%d bytes)", len(msgs[s])))
	if _, err := c.Write([]byte(msgs[s])); err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	buf := make([]byte, len(msgs[s.Other()]))
	resume = g.wait(s)
	_, err = io.ReadFull(c, buf)
	resume()
	if err != nil {
		return fmt.Errorf("%s: %w", s.String(), err)
	}
	rec.Note(s, fmt.Sprintf("Read() = %d bytes", len(buf)))
	rec.Note(s, "Close()")
	return c.Close()
}
