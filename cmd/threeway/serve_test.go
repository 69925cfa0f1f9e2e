package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
)

// serve's SIGUSR1 report prints one ss -ti style line per accepted
// connection still open.
func TestLiveConnsReport(t *testing.T) {
	a, b := link.Pipe(link.PipeConfig{})
	addrs := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("192.0.2.2/24")}
	var stacks [2]*threeway.Stack
	for i, l := range []link.Link{a, b} {
		s, err := threeway.New(threeway.Options{Link: l, Addrs: addrs[i : i+1]})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stacks[i] = s
	}
	ln, err := stacks[1].Listen("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := &liveConns{m: map[*threeway.Conn]bool{}}
	accepted := make(chan error, 1)
	go func() {
		c, err := logAccepts{ln, conns}.Accept()
		if err == nil {
			buf := make([]byte, 5)
			_, err = c.Read(buf)
		}
		accepted <- err
	}()
	c, err := stacks[0].Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	conns.print(&out)
	if line := out.String(); !strings.Contains(line, "192.0.2.2:7 -> 192.0.2.1:") || !strings.Contains(line, "ESTABLISHED") ||
		!strings.Contains(line, "bytes_received:5") || strings.Count(line, "\n") != 1 {
		t.Errorf("report %q", line)
	}
	for srv := range conns.m {
		srv.Close()
	}
	c.Close()
}
