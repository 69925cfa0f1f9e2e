package threeway

import (
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
)

// A peer that vanishes is detected by keep-alives: after the idle time and
// the unanswered probes the connection fails with ETIMEDOUT. Simulated
// time in a synctest bubble: two hours pass in milliseconds.
func TestKeepAliveDetectsVanishedPeer(t *testing.T) {
	synctest.Test(t, testKeepAliveDetectsVanishedPeer)
}

func testKeepAliveDetectsVanishedPeer(t *testing.T) {
	var vanished atomic.Bool
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{BtoA: link.Impairments{Drop: func([]byte) bool { return vanished.Load() }}}})
	l, _ := n.server.Listen("tcp", ":80")
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	start := n.now()
	if err := c.(*Conn).SetKeepAlive(true); err != nil {
		t.Fatal(err)
	}
	vanished.Store(true) // from now on the server's packets are lost
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("read: %v, want ETIMEDOUT", err)
	}
	el := n.now().Sub(start)
	if want := 2*time.Hour + 9*75*time.Second; el < want || el > want+time.Second {
		t.Fatalf("gave up after %v, want %v", el, want)
	}
	if p := n.client.Stats().KeepAliveProbes; p != 9 {
		t.Fatalf("%d probes", p)
	}
}
