package link

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// numbered returns a packet of size bytes (at least 4) carrying id in its
// first four bytes, which Corrupt never touches, and a pattern after.
func numbered(id uint32, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, id)
	for i := 4; i < size; i++ {
		p[i] = byte(i) ^ byte(id)
	}
	return p
}

func idOf(p []byte) uint32 { return binary.BigEndian.Uint32(p) }

// drain reads every packet already queued at e without blocking.
func drain(t *testing.T, e *PipeEnd) [][]byte {
	t.Helper()
	var out [][]byte
	bufs := make([][]byte, 16)
	sizes := make([]int, 16)
	for e.rx.len() > 0 {
		for i := range bufs {
			bufs[i] = make([]byte, e.MTU())
		}
		n, err := e.ReadPackets(bufs, sizes)
		if err != nil {
			t.Fatalf("ReadPackets: %v", err)
		}
		for i := range n {
			out = append(out, bufs[i][:sizes[i]])
		}
	}
	return out
}

// write sends pkts on e and fails the test on error.
func write(t *testing.T, e *PipeEnd, pkts ...[]byte) {
	t.Helper()
	if err := e.WritePackets(pkts); err != nil {
		t.Fatalf("WritePackets: %v", err)
	}
}

// simPipe returns a pipe on a simulated clock.
func simPipe(cfg PipeConfig) (*clock.Sim, *PipeEnd, *PipeEnd) {
	sim := clock.NewSim(epoch)
	cfg.Clock = sim
	a, b := Pipe(cfg)
	return sim, a, b
}
