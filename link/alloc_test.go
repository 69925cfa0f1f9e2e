package link

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
)

// batch returns n packets of size bytes and matching read buffers.
func batch(n, size int) (pkts, bufs [][]byte, sizes []int) {
	for i := range n {
		pkts = append(pkts, numbered(uint32(i), size))
		bufs = append(bufs, make([]byte, size))
	}
	return pkts, bufs, make([]int, n)
}

// roundTrip writes pkts on w and reads them all back on r.
func roundTrip(tb testing.TB, w, r Link, pkts, bufs [][]byte, sizes []int, between func()) {
	if err := w.WritePackets(pkts); err != nil {
		tb.Fatal(err)
	}
	if between != nil {
		between()
	}
	for got := 0; got < len(pkts); {
		n, err := r.ReadPackets(bufs[got:], sizes[got:])
		if err != nil {
			tb.Fatal(err)
		}
		got += n
	}
}

func TestZeroAllocsPerPacket(t *testing.T) {
	pkts, bufs, sizes := batch(32, 1400)
	check := func(t *testing.T, w, r Link, between func()) {
		t.Helper()
		roundTrip(t, w, r, pkts, bufs, sizes, between) // warm the free list
		allocs := testing.AllocsPerRun(200, func() {
			roundTrip(t, w, r, pkts, bufs, sizes, between)
		})
		if allocs != 0 {
			t.Fatalf("%v allocations per batch of %d packets, want 0", allocs, len(pkts))
		}
		if idOf(bufs[31]) != 31 || sizes[31] != 1400 {
			t.Fatal("round trip lost packets")
		}
	}
	t.Run("direct", func(t *testing.T) {
		a, b := Pipe(PipeConfig{})
		check(t, a, b, nil)
	})
	t.Run("captured", func(t *testing.T) {
		a, b := Pipe(PipeConfig{})
		p, err := NewPcapWriter(io.Discard, 0)
		if err != nil {
			t.Fatal(err)
		}
		check(t, Capture(a, p, clock.Real), Capture(b, p, clock.Real), nil)
	})
	t.Run("delayed", func(t *testing.T) {
		sim := clock.NewSim(epoch)
		a, b := Pipe(PipeConfig{Clock: sim, AtoB: Impairments{Delay: time.Millisecond}})
		check(t, a, b, func() { sim.Advance(time.Millisecond) })
	})
}

func BenchmarkPipe(b *testing.B) {
	for _, size := range []int{64, 1500} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			w, r := Pipe(PipeConfig{})
			pkts, bufs, sizes := batch(64, size)
			b.SetBytes(int64(len(pkts) * size))
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, w, r, pkts, bufs, sizes, nil)
			}
		})
	}
}
