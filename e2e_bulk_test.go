package threeway

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// TestBulkBothWays moves 64 MiB in each direction at once over one
// connection and checks both streams by SHA-256.
func TestBulkBothWays(t *testing.T) {
	t.Parallel()
	size := int64(64 << 20)
	if testing.Short() {
		size = 4 << 20
	}
	// A real-time run on a loaded machine (-race, shared CPUs) can stall
	// a stack for longer than the 200 ms default minimum RTO, and once
	// (load 7 on two cores) for over a second; this test is about the
	// data, so a 5 s minimum keeps "no retransmission on a perfect link"
	// a check of the stack rather than of the scheduler.
	n := newTestNet(t, netConfig{tcp: tcp.Config{MinRTO: 5 * time.Second, InitialRTO: 5 * time.Second}})
	l := listen(t, n.server, ":9")
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(acc)
			return
		}
		acc <- c
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, ok := <-acc
	if !ok {
		t.Fatal("accept failed")
	}
	defer s.Close()
	start := time.Now()
	if err := exchange(c, s, 1, size, 2, size, 64<<10); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d MiB each way in %v (%.1f MiB/s per direction)", size>>20, el, float64(size>>20)/el.Seconds())
	// A tail loss probe (RFC 8985 §7) may fire when the peer's goroutine
	// is late: it is cheap (a D-SACK answers it, nothing is reduced) and
	// the one retransmission a perfect link may see.
	if st := n.client.Stats(); st.RetransSegs > st.LossProbes || st.RTOs != 0 || st.FastRecoveries != 0 {
		t.Errorf("client retransmitted %d segments on a perfect link: %v", st.RetransSegs, st.Map())
	}
}

// TestManyConnections runs 1,000 connections at once, each echoing a small
// message.
func TestManyConnections(t *testing.T) {
	t.Parallel()
	const conns = 1000
	// A device queue deep enough for every packet of the burst: losses
	// would only add SYN retransmissions (1 s each) to what this tests.
	// The test runs beside others on real time under -race: a SYN-ACK
	// can take longer than the 1 s initial RTO to be scheduled (CI saw
	// 18 of 1,000 late, none lost). Margins of seconds keep SynRetrans a
	// count of lost handshakes rather than of the scheduler's delays.
	n := newTestNet(t, netConfig{
		pipe: link.PipeConfig{QueueLen: 16 * conns},
		tcp:  tcp.Config{InitialRTO: 10 * time.Second, MinRTO: 2 * time.Second},
	})
	l := listen(t, n.server, ":7")
	// Room for every handshake at once: this test is about concurrency,
	// not about the backlog (TestListenerBacklog is).
	l.SetBacklog(conns, conns)
	wait := serveEcho(l)
	defer wait()
	defer l.Close()

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := echoOnce(n.client, "192.0.2.2:7", fmt.Appendf(nil, "message %d", i)); err != nil {
				errs <- fmt.Errorf("conn %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed < 10 {
			t.Error(err)
		}
		failed++
	}
	if failed > 0 {
		t.Fatalf("%d of %d connections failed", failed, conns)
	}
	cs, ss := n.client.Stats(), n.server.Stats()
	if cs.ActiveOpens != conns || ss.PassiveOpens != conns {
		t.Errorf("ActiveOpens = %d, PassiveOpens = %d, want %d", cs.ActiveOpens, ss.PassiveOpens, conns)
	}
	if cs.SynRetrans != 0 {
		t.Errorf("SynRetrans = %d: handshakes were lost (server %v; pipe %+v, %+v)", cs.SynRetrans, ss.Map(), n.a.Stats(), n.b.Stats())
	}
}
