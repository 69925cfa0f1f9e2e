package threeway

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// tracedPacket is one packet a stack wrote, and when (since the
// conversation began).
type tracedPacket struct {
	at  time.Duration
	pkt []byte
}

// conversationTrace is what each stack wrote in one conversation, in the
// order it wrote it: [0] the client's packets, [1] the server's. The two
// directions are kept apart because packets the two stacks write at the
// same simulated instant have no order between them.
type conversationTrace [2][]tracedPacket

// traceConversation runs, in a bubble of its own, one echo conversation
// over a lossy 10 ms link, through TIME-WAIT to CLOSED, and returns every
// packet either stack wrote.
func traceConversation(t *testing.T) conversationTrace {
	var tr conversationTrace
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		record := func(dir int) func([]byte) bool {
			return func(pkt []byte) bool {
				mu.Lock()
				defer mu.Unlock()
				tr[dir] = append(tr[dir], tracedPacket{time.Since(start), bytes.Clone(pkt)})
				return false
			}
		}
		log := newStateLog()
		n := newTestNet(t, netConfig{clientTrace: log, serverTrace: log, pipe: link.PipeConfig{Seed: 3,
			AtoB: link.Impairments{Delay: 10 * time.Millisecond, Loss: 0.2, Drop: record(0)},
			BtoA: link.Impairments{Delay: 10 * time.Millisecond, Loss: 0.2, Drop: record(1)},
		}})
		c, s := connPair(t, n, ":7")
		done := make(chan error, 1)
		go func() {
			defer s.Close()
			buf := make([]byte, 4096)
			for {
				k, err := s.Read(buf)
				if k > 0 {
					if _, werr := s.Write(buf[:k]); werr != nil {
						done <- werr
						return
					}
				}
				if err != nil {
					done <- nil
					return
				}
			}
		}()
		msg := strings.Repeat("determinism ", 2000) // 24 KB: many segments
		if err := echoConn(c, msg); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		log.wait(t, c, tcp.Closed)
		log.wait(t, s, tcp.Closed)
		if cs, ss := n.client.Stats(), n.server.Stats(); cs.RetransSegs+ss.RetransSegs+cs.SynRetrans+ss.SynAckRetrans == 0 {
			t.Error("nothing was retransmitted: the loss never bit")
		}
	})
	return tr
}

// TestConversationDeterministic: on simulated time, with fixed ISN secrets
// and link seed, a conversation is a function of its inputs: run twice,
// each stack writes the same packets, byte for byte, at the same instants.
// Timers, loss, retransmission and TIME-WAIT all take part.
func TestConversationDeterministic(t *testing.T) {
	t.Parallel()
	first, second := traceConversation(t), traceConversation(t)
	for dir, name := range []string{"client", "server"} {
		a, b := first[dir], second[dir]
		if len(a) < 10 {
			t.Fatalf("%s wrote only %d packets", name, len(a))
		}
		for i := range min(len(a), len(b)) {
			if a[i].at != b[i].at || !bytes.Equal(a[i].pkt, b[i].pkt) {
				t.Fatalf("%s packet %d differs: at %v % x\nthen at %v % x", name, i, a[i].at, a[i].pkt, b[i].at, b[i].pkt)
			}
		}
		if len(a) != len(b) {
			t.Fatalf("%s wrote %d packets, then %d", name, len(a), len(b))
		}
		t.Logf("%s: %d packets, the last at %v, identical", name, len(a), a[len(a)-1].at)
	}
}
