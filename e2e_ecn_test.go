package threeway

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// TestECNEndToEnd: a client that asks for ECN (RFC 3168) sends 1 MiB over
// a path whose router marks 3% of ECN-capable packets CE instead of
// dropping any. The data arrives intact; the server echoes the marks, the
// client reduces its window for them and retransmits nothing, since
// nothing was lost. The IP ECN bits go out in packet_out.go and are read
// in packet_in.go.
func TestECNEndToEnd(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testECNEndToEnd)
}

func testECNEndToEnd(t *testing.T) {
	data := link.Impairments{Delay: 5 * time.Millisecond, CE: 0.03}
	acks := link.Impairments{Delay: 5 * time.Millisecond}
	n := newTestNet(t, netConfig{tcp: tcp.Config{ECN: tcp.ECNOn},
		pipe: link.PipeConfig{Seed: 7, AtoB: data, BtoA: acks}})
	c, s := connPair(t, n, ":7")
	if !c.tcb.ECN() || !s.tcb.ECN() {
		t.Fatalf("ECN negotiated: client %v, server %v", c.tcb.ECN(), s.tcb.ECN())
	}
	watchdog := time.AfterFunc(time.Hour, n.close) // simulated time
	defer watchdog.Stop()
	if err := exchange(c, s, 1, 1<<20, 2, 1, 16<<10); err != nil {
		t.Fatal(err)
	}
	marked := n.a.Stats().CEMarked
	cs, ss := n.client.Stats(), n.server.Stats()
	if marked == 0 || ss.ECNCEReceived == 0 || cs.ECNReductions == 0 {
		t.Fatalf("CE marked %d, server saw %d, client reduced %d times", marked, ss.ECNCEReceived, cs.ECNReductions)
	}
	if cs.RetransSegs != 0 {
		t.Errorf("client retransmitted %d segments with no loss", cs.RetransSegs)
	}
	t.Logf("%d packets CE-marked, %d seen, %d window reductions", marked, ss.ECNCEReceived, cs.ECNReductions)
}

// TestCongestionControlPerConnection: CUBIC is the stack's default,
// tcp.Config picks another per stack, and Dialer.CongestionControl (Linux's
// TCP_CONGESTION) per connection; the choice survives the handshake.
func TestCongestionControlPerConnection(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testCongestionControlPerConnection)
}

func testCongestionControlPerConnection(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()
	for _, tc := range []struct {
		opt, want tcp.CCAlgorithm
	}{{tcp.CCDefault, tcp.CCCubic}, {tcp.CCNewReno, tcp.CCNewReno}, {tcp.CCCubic, tcp.CCCubic}} {
		d := &Dialer{Stack: n.client, CongestionControl: tc.opt, Nonblock: true}
		nc, err := d.Dial("tcp", "192.0.2.2:7")
		if err != nil {
			t.Fatal(err)
		}
		c := nc.(*Conn)
		for deadline := time.Now().Add(10 * time.Second); c.State() != tcp.Established; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("CongestionControl %v: still %v", tc.opt, c.State())
			}
		}
		n.client.mu.Lock()
		got := c.tcb.CongestionAlgorithm()
		n.client.mu.Unlock()
		if got != tc.want {
			t.Errorf("CongestionControl %v: algorithm %v, want %v", tc.opt, got, tc.want)
		}
		c.Close()
	}
	m := newTestNet(t, netConfig{tcp: tcp.Config{CongestionControl: tcp.CCNewReno}})
	ml := listen(t, m.server, ":7")
	mw := serveEcho(ml)
	defer mw()
	defer ml.Close()
	c, err := m.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m.client.mu.Lock()
	got := c.(*Conn).tcb.CongestionAlgorithm()
	m.client.mu.Unlock()
	if got != tcp.CCNewReno {
		t.Errorf("Config.CongestionControl NewReno: algorithm %v", got)
	}
}
