package threeway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
)

// After Stack.Close every call on its sockets fails with an error for
// which errors.Is(err, net.ErrClosed) holds, in package net's *OpError
// shape, as calls on a closed net.Conn do.
func TestCallsAfterStackCloseReturnErrClosed(t *testing.T) {
	a, b := link.Pipe(link.PipeConfig{})
	sec := [16]byte{4}
	client, err := New(Options{Link: a, Addrs: []netip.Prefix{clientAddr}, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	server, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr}, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Listen("tcp", ":81")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := client.DialContext(context.Background(), "tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	u, err := client.ListenUDP("udp", &net.UDPAddr{Port: 53})
	if err != nil {
		t.Fatal(err)
	}
	p, err := client.ListenPing("ping4", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	// A reader blocked at the time of Close is woken with the error too.
	blocked := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); blocked <- err }()
	time.Sleep(10 * time.Millisecond)
	client.Close()
	select {
	case err := <-blocked:
		check(t, "blocked Read", err)
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked Read was not woken by Stack.Close")
	}

	buf := make([]byte, 10)
	dst := netip.MustParseAddrPort("192.0.2.2:53")
	calls := map[string]func() error{
		"Conn.Read":             func() error { _, err := c.Read(buf); return err },
		"Conn.Write":            func() error { _, err := c.Write(buf); return err },
		"Conn.ReadNonblock":     func() error { _, err := c.ReadNonblock(buf); return err },
		"Conn.WriteNonblock":    func() error { _, err := c.WriteNonblock(buf); return err },
		"Conn.CloseWrite":       c.CloseWrite,
		"Conn.CloseRead":        c.CloseRead,
		"Conn.SetDeadline":      func() error { return c.SetDeadline(time.Now()) },
		"Conn.SetReadDeadline":  func() error { return c.SetReadDeadline(time.Now()) },
		"Conn.SetWriteDeadline": func() error { return c.SetWriteDeadline(time.Now()) },
		"Conn.SetNoDelay":       func() error { return c.SetNoDelay(true) },
		"Conn.SetKeepAlive":     func() error { return c.SetKeepAlive(true) },
		"Conn.SetLinger":        func() error { return c.SetLinger(0) },
		"Conn.SetReadBuffer":    func() error { return c.SetReadBuffer(1 << 16) },
		"Conn.Close":            c.Close,
		"Listener.Accept":       func() error { _, err := cl.Accept(); return err },
		"Listener.Close":        cl.Close,
		"UDPConn.ReadFrom":      func() error { _, _, err := u.ReadFrom(buf); return err },
		"UDPConn.WriteTo":       func() error { _, err := u.WriteToUDPAddrPort(buf, dst); return err },
		"UDPConn.SetDeadline":   func() error { return u.SetDeadline(time.Now()) },
		"UDPConn.SetReadBuffer": func() error { return u.SetReadBuffer(100) },
		"UDPConn.Close":         u.Close,
		"PingConn.Read":         func() error { _, err := p.Read(buf); return err },
		"PingConn.WriteToAddr":  func() error { _, err := p.WriteToAddr([]byte{8, 0, 0, 0, 0, 0, 0, 1}, dst.Addr()); return err },
		"PingConn.SetDeadline":  func() error { return p.SetDeadline(time.Now()) },
		"PingConn.Close":        p.Close,
		"Stack.Listen":          func() error { _, err := client.Listen("tcp", ":82"); return err },
		"Stack.ListenUDP":       func() error { _, err := client.ListenUDP("udp", &net.UDPAddr{Port: 54}); return err },
		"Stack.Dial":            func() error { _, err := client.Dial("tcp", "192.0.2.2:80"); return err },
	}
	for name, call := range calls {
		check(t, name, call())
	}
}

func check(t *testing.T, name string, err error) {
	t.Helper()
	var op *net.OpError
	if !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) {
		t.Errorf("%s after Stack.Close: %v (%T), want a *net.OpError wrapping net.ErrClosed", name, err, err)
	}
}
