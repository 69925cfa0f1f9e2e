package threeway

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

var (
	clientAddr = netip.MustParsePrefix("192.0.2.1/24")
	serverAddr = netip.MustParsePrefix("192.0.2.2/24")
	client6    = netip.MustParsePrefix("2001:db8::1/64")
	server6    = netip.MustParsePrefix("2001:db8::2/64")
)

// testNet is two stacks joined by an in-memory pipe.
type testNet struct {
	client, server *Stack
	a, b           *link.PipeEnd
	sim            *clock.Sim
	stopAuto       func()
}

type netConfig struct {
	pipe link.PipeConfig
	tcp  tcp.Config
	sim  bool // run on a simulated clock that advances when idle
}

func newTestNet(t testing.TB, nc netConfig) *testNet {
	t.Helper()
	n := &testNet{}
	var clk clock.Clock = clock.Real
	if nc.sim {
		n.sim = clock.NewSim(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		clk = n.sim
		nc.pipe.Clock = clk
	}
	n.a, n.b = link.Pipe(nc.pipe)
	var err error
	secA, secB := [16]byte{1}, [16]byte{2}
	n.client, err = New(Options{Link: n.a, Addrs: []netip.Prefix{clientAddr, client6}, Clock: clk, TCP: nc.tcp, ISNSecret: &secA})
	if err != nil {
		t.Fatal(err)
	}
	n.server, err = New(Options{Link: n.b, Addrs: []netip.Prefix{serverAddr, server6}, Clock: clk, TCP: nc.tcp, ISNSecret: &secB})
	if err != nil {
		t.Fatal(err)
	}
	if nc.sim {
		n.stopAuto = n.sim.AutoAdvance(2 * time.Millisecond)
	}
	t.Cleanup(n.close)
	return n
}

func (n *testNet) close() {
	n.client.Close()
	n.server.Close()
	if n.stopAuto != nil {
		n.stopAuto()
		n.stopAuto = nil
	}
}
