package threeway

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
)

// gatedLink is a link whose writes block while its gate is shut, as a
// slow pcap sink's would.
type gatedLink struct {
	link.Link
	mu      sync.Mutex
	shut    bool
	open    chan struct{} // closed when the gate opens
	blocked chan struct{} // gets a value when a write starts blocking
}

func newGatedLink(l link.Link) *gatedLink {
	return &gatedLink{Link: l, open: make(chan struct{}), blocked: make(chan struct{}, 1)}
}

func (g *gatedLink) WritePackets(pkts [][]byte) error {
	g.mu.Lock()
	shut, open := g.shut, g.open
	g.mu.Unlock()
	if shut {
		select {
		case g.blocked <- struct{}{}:
		default:
		}
		<-open
	}
	return g.Link.WritePackets(pkts)
}

func (g *gatedLink) shutGate() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
}

func (g *gatedLink) openGate() {
	g.mu.Lock()
	g.shut = false
	close(g.open)
	g.mu.Unlock()
}

// Link writes happen outside the stack's lock: while one caller is stuck
// in a link write, another connection still reads what arrives and
// queues what it writes; once the link moves, everything goes out in
// order.
func TestSlowLinkWriteDoesNotStallOthers(t *testing.T) {
	a, b := link.Pipe(link.PipeConfig{})
	gated := newGatedLink(a)
	sec := [16]byte{9}
	client, err := New(Options{Link: gated, Addrs: []netip.Prefix{clientAddr}, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := New(Options{Link: b, Addrs: []netip.Prefix{serverAddr}, ISNSecret: &sec})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	dial := func() (*Conn, *Conn) {
		c, err := client.DialContext(context.Background(), "tcp", serverAddr.Addr().String()+":80")
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return c.(*Conn), sc.(*Conn)
	}
	c1, s1 := dial()
	c2, s2 := dial()

	gated.shutGate()
	stuck := make(chan error, 1)
	big := bytes.Repeat([]byte("slow"), 4096)
	go func() { _, err := c1.Write(big); stuck <- err }()
	select {
	case <-gated.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the first write never reached the link")
	}

	// The other connection goes on: data from the server is read, and
	// a write is queued, while c1's writer is stuck in the link.
	done := make(chan error, 1)
	go func() {
		if _, err := s2.Write([]byte("hello")); err != nil {
			done <- err
			return
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "hello" {
			done <- err
			return
		}
		_, err := c2.Write([]byte("world"))
		client.Stats()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a slow link write stalled another connection")
	}

	gated.openGate()
	if err := <-stuck; err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(big))
	if _, err := io.ReadFull(s1, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("c1's data after the link moved: %v", err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(s2, buf); err != nil || string(buf) != "world" {
		t.Fatalf("c2's data after the link moved: %q %v", buf, err)
	}
}
