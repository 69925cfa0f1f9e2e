package threeway

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// TestLostSYN: the first SYN is dropped; the handshake completes with the
// retransmission one initial RTO (1 s) later.
func TestLostSYN(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testLostSYN)
}

func testLostSYN(t *testing.T) {
	drop, dropped := dropFirst(isSYN)
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{Drop: drop}}})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()
	start := n.now()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	el := n.now().Sub(start)
	if dropped.Load() != 1 {
		t.Fatalf("dropped %d SYNs, want 1", dropped.Load())
	}
	if el < time.Second || el >= 1500*time.Millisecond {
		t.Errorf("handshake took %v of simulated time, want 1s (one SYN RTO)", el)
	}
	if st := n.client.Stats(); st.SynRetrans != 1 {
		t.Errorf("SynRetrans = %d, want 1", st.SynRetrans)
	}
	if err := echoConn(c, "after a lost SYN"); err != nil {
		t.Fatal(err)
	}
}

// TestLostSYNACK: the first SYN-ACK is dropped; a retransmission (the
// client's SYN, answered with the SYN-ACK again, or the server's own
// SYN-ACK timer, both due after 1 s) completes the handshake.
func TestLostSYNACK(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testLostSYNACK)
}

func testLostSYNACK(t *testing.T) {
	drop, dropped := dropFirst(isSYNACK)
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{BtoA: link.Impairments{Drop: drop}}})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()
	start := n.now()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	el := n.now().Sub(start)
	if dropped.Load() != 1 {
		t.Fatalf("dropped %d SYN-ACKs, want 1", dropped.Load())
	}
	if el < time.Second || el >= 1500*time.Millisecond {
		t.Errorf("handshake took %v of simulated time, want 1s", el)
	}
	if cs, ss := n.client.Stats(), n.server.Stats(); cs.SynRetrans+ss.SynAckRetrans == 0 {
		t.Error("no SYN or SYN-ACK was retransmitted")
	}
	if err := echoConn(c, "after a lost SYN-ACK"); err != nil {
		t.Fatal(err)
	}
}

// TestLostFinalACK: the ACK that ends the handshake is dropped. The client
// is ESTABLISHED and sends data at once; that data's ACK completes the
// server's handshake (RFC 9293 §3.10.7.4), with no retransmission.
func TestLostFinalACK(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testLostFinalACK)
}

func testLostFinalACK(t *testing.T) {
	drop, dropped := dropFirst(isPureACK)
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{AtoB: link.Impairments{Drop: drop}}})
	l := listen(t, n.server, ":7")
	start := n.now()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if dropped.Load() != 1 {
		t.Fatalf("dropped %d ACKs, want the handshake's", dropped.Load())
	}
	if st := c.(*Conn).State(); st != tcp.Established {
		t.Fatalf("client state %v", st)
	}
	msg := "data completes the handshake"
	mustWrite(t, c, msg)
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != msg {
		t.Fatalf("server read %q, %v", buf, err)
	}
	if el := n.now().Sub(start); el >= time.Second {
		t.Errorf("took %v of simulated time: something waited for a retransmission", el)
	}
	if st := n.server.Stats(); st.SynAckRetrans != 0 || st.PassiveOpens != 1 {
		t.Errorf("server SynAckRetrans = %d, PassiveOpens = %d; want 0, 1", st.SynAckRetrans, st.PassiveOpens)
	}
}

// TestImpairedSweep transfers 64 KiB each way at once over a link that
// loses, duplicates, reorders, delays and corrupts packets, for 200 seeds.
// Every run must deliver every byte exactly once, in order (same count and
// SHA-256 on both ends). Each run is a synctest bubble, so retransmission
// timeouts cost no real time, and runs go many at once.
func TestImpairedSweep(t *testing.T) {
	t.Parallel()
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	const size = 64 << 10
	imp := link.Impairments{Loss: 0.05, Duplicate: 0.02, Reorder: 0.05, Delay: time.Millisecond, Corrupt: 0.01}

	var corrupted, badChecksums, retrans atomic.Uint64
	// t.Run may be called from several goroutines: a worker pool gives
	// each seed its own subtest, a few at a time.
	const workers = 4
	next := make(chan uint64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range next {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						n := newTestNet(t, netConfig{pipe: link.PipeConfig{Seed: seed, AtoB: imp, BtoA: imp}})
						c, s := connPair(t, n, ":7")
						// A watchdog: a transfer that stalls with timers still
						// running fails after an hour of simulated time. (One
						// that stalls with none is a deadlock synctest reports.)
						watchdog := time.AfterFunc(time.Hour, n.close)
						defer watchdog.Stop()
						if err := exchange(c, s, byte(seed), size, byte(seed)+100, size, 4096); err != nil {
							t.Fatal(err)
						}
						corrupted.Add(n.a.Stats().Corrupted + n.b.Stats().Corrupted)
						cs, ss := n.client.Stats(), n.server.Stats()
						badChecksums.Add(cs.Drops[tcp.DropBadChecksum] + ss.Drops[tcp.DropBadChecksum])
						retrans.Add(cs.RetransSegs + ss.RetransSegs)
					})
				})
			}
		}()
	}
	for seed := range uint64(seeds) {
		next <- seed + 1
	}
	close(next)
	wg.Wait()
	t.Logf("%d seeds: %d packets corrupted, %d dropped for bad checksums, %d segments retransmitted",
		seeds, corrupted.Load(), badChecksums.Load(), retrans.Load())
	if !t.Failed() && (corrupted.Load() == 0 || badChecksums.Load() == 0 || retrans.Load() == 0) {
		t.Error("the impairments never bit: the sweep tested nothing")
	}
}

// TestImpairedLossSweep is issue 12's sweep: one bulk transfer each way
// over a 10 ms path whose data direction loses up to 20% of packets and
// reorders 5% of them by 3 ms (the ACK direction loses a little too),
// for a few seeds per loss rate. Every byte must arrive exactly once, in
// order; loss recovery (SACK, RACK-TLP, PRR, D-SACK undo) is exercised
// far past where fast recovery alone holds. Simulated clock, modest sizes.
func TestImpairedLossSweep(t *testing.T) {
	t.Parallel()
	losses := []float64{0.01, 0.05, 0.1, 0.2}
	seeds := 3
	if testing.Short() {
		seeds = 2
	}
	const size = 128 << 10
	var retrans atomic.Uint64
	var wg sync.WaitGroup
	for _, loss := range losses {
		for seed := range uint64(seeds) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(fmt.Sprintf("loss=%g/seed=%d", loss, seed+1), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						data := link.Impairments{Delay: 10 * time.Millisecond, Loss: loss, Reorder: 0.05, ReorderDelay: 3 * time.Millisecond}
						acks := link.Impairments{Delay: 10 * time.Millisecond, Loss: loss / 4}
						n := newTestNet(t, netConfig{pipe: link.PipeConfig{Seed: seed + 100, AtoB: data, BtoA: acks}})
						c, s := connPair(t, n, ":7")
						watchdog := time.AfterFunc(time.Hour, n.close)
						defer watchdog.Stop()
						if err := exchange(c, s, byte(seed), size, byte(seed)+50, size/4, 8192); err != nil {
							t.Fatal(err)
						}
						cs, ss := n.client.Stats(), n.server.Stats()
						retrans.Add(cs.RetransSegs + ss.RetransSegs)
					})
				})
			}()
		}
	}
	wg.Wait()
	if !t.Failed() && retrans.Load() == 0 {
		t.Error("nothing was retransmitted: the sweep tested nothing")
	}
}
