package link

import (
	"bytes"
	"math"
	"math/bits"
	"reflect"
	"testing"
	"time"
)

const statPackets = 10000

// sendMany writes statPackets numbered packets on a, one per call, lets
// all delays pass, and returns what b received.
func sendMany(t *testing.T, cfg PipeConfig) (PipeStats, [][]byte) {
	t.Helper()
	cfg.QueueLen = 3 * statPackets
	sim, a, b := simPipe(cfg)
	for i := range statPackets {
		write(t, a, numbered(uint32(i), 100))
		if i%100 == 99 {
			sim.Advance(100 * time.Microsecond)
		}
	}
	sim.Advance(time.Minute)
	return a.Stats(), drain(t, b)
}

// near reports whether got is within 5 standard deviations of the
// binomial mean n*p.
func near(got uint64, n int, p float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(got)-mean) <= 5*sd
}

func TestImpairmentRates(t *testing.T) {
	t.Run("loss", func(t *testing.T) {
		s, got := sendMany(t, PipeConfig{Seed: 1, AtoB: Impairments{Loss: 0.1}})
		if !near(s.Lost, statPackets, 0.1) {
			t.Fatalf("lost %d of %d at p=0.1", s.Lost, statPackets)
		}
		if uint64(len(got)) != statPackets-s.Lost || s.Delivered != uint64(len(got)) {
			t.Fatalf("stats %+v but %d received", s, len(got))
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		s, got := sendMany(t, PipeConfig{Seed: 2, AtoB: Impairments{Duplicate: 0.2}})
		if !near(s.Duplicated, statPackets, 0.2) {
			t.Fatalf("duplicated %d of %d at p=0.2", s.Duplicated, statPackets)
		}
		if uint64(len(got)) != statPackets+s.Duplicated {
			t.Fatalf("received %d, want %d", len(got), statPackets+s.Duplicated)
		}
		seen := map[uint32]int{}
		for _, p := range got {
			seen[idOf(p)]++
		}
		twice := 0
		for _, n := range seen {
			if n == 2 {
				twice++
			}
		}
		if uint64(twice) != s.Duplicated || len(seen) != statPackets {
			t.Fatalf("%d distinct packets, %d received twice; stats %+v", len(seen), twice, s)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		s, got := sendMany(t, PipeConfig{Seed: 3, AtoB: Impairments{Reorder: 0.1}})
		if !near(s.Reordered, statPackets, 0.1) {
			t.Fatalf("reordered %d of %d at p=0.1", s.Reordered, statPackets)
		}
		if len(got) != statPackets {
			t.Fatalf("received %d, want %d", len(got), statPackets)
		}
		// Each held-back packet arrives after some later one.
		late := 0
		var highest uint32
		for i, p := range got {
			if id := idOf(p); i > 0 && id < highest {
				late++
			} else {
				highest = id
			}
		}
		if uint64(late) != s.Reordered {
			t.Fatalf("%d packets arrived after a later one, stats say %d reordered", late, s.Reordered)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		s, got := sendMany(t, PipeConfig{Seed: 4, AtoB: Impairments{Corrupt: 0.05}})
		if !near(s.Corrupted, statPackets, 0.05) {
			t.Fatalf("corrupted %d of %d at p=0.05", s.Corrupted, statPackets)
		}
		damaged := 0
		for _, p := range got {
			want := numbered(idOf(p), 100)
			if bytes.Equal(p, want) {
				continue
			}
			damaged++
			flipped := 0
			for i := range p {
				if d := bits.OnesCount8(p[i] ^ want[i]); d > 0 {
					if i < 20 {
						t.Fatalf("packet %d corrupted in byte %d, inside the IP header", idOf(p), i)
					}
					flipped += d
				}
			}
			if flipped != 1 {
				t.Fatalf("packet %d has %d bits flipped, want 1", idOf(p), flipped)
			}
		}
		if uint64(damaged) != s.Corrupted {
			t.Fatalf("%d packets damaged, stats say %d", damaged, s.Corrupted)
		}
	})
}

func TestCorruptShortPacket(t *testing.T) {
	_, a, b := simPipe(PipeConfig{AtoB: Impairments{Corrupt: 1}})
	orig := []byte{0, 0, 0, 0, 0, 0, 0, 0}
	for range 50 {
		write(t, a, orig)
	}
	for _, p := range drain(t, b) {
		flipped := 0
		for _, c := range p {
			flipped += bits.OnesCount8(c)
		}
		if len(p) != len(orig) || flipped != 1 {
			t.Fatalf("short packet came out as %x", p)
		}
	}
	// An empty packet has nothing to flip and must not crash.
	write(t, a, []byte{})
}

func TestImpairmentsReproducible(t *testing.T) {
	run := func(seed uint64) (PipeStats, [][]byte) {
		return sendMany(t, PipeConfig{Seed: seed, AtoB: Impairments{
			Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Corrupt: 0.05,
			Delay: 5 * time.Millisecond, Jitter: 2 * time.Millisecond,
			Bandwidth: 100e6,
		}})
	}
	s1, got1 := run(42)
	s2, got2 := run(42)
	if s1 != s2 {
		t.Fatalf("same seed, different stats:\n%+v\n%+v", s1, s2)
	}
	if !reflect.DeepEqual(got1, got2) {
		t.Fatal("same seed, different packets received")
	}
	if s1.Lost == 0 || s1.Duplicated == 0 || s1.Reordered == 0 || s1.Corrupted == 0 {
		t.Fatalf("some impairment never happened: %+v", s1)
	}
	s3, got3 := run(43)
	if s1 == s3 || reflect.DeepEqual(got1, got3) {
		t.Fatal("different seeds gave the same run")
	}
}

func TestDirectionsAreIndependent(t *testing.T) {
	// Traffic one way must not change the random choices the other way.
	run := func(reverse bool) PipeStats {
		imp := Impairments{Loss: 0.3}
		sim, a, b := simPipe(PipeConfig{Seed: 7, AtoB: imp, BtoA: imp})
		for i := range 1000 {
			write(t, a, numbered(uint32(i), 40))
			if reverse {
				write(t, b, numbered(uint32(i), 40))
			}
		}
		sim.Advance(time.Second)
		return a.Stats()
	}
	if s1, s2 := run(false), run(true); s1 != s2 {
		t.Fatalf("a->b stats depend on b->a traffic:\n%+v\n%+v", s1, s2)
	}
}

func TestDropFilter(t *testing.T) {
	// Drop the first packet flagged 0xAA (a "SYN-ACK"), let the
	// retransmission through.
	dropped := false
	drop := func(p []byte) bool {
		if p[4] == 0xAA && !dropped {
			dropped = true
			return true
		}
		return false
	}
	a, b := Pipe(PipeConfig{AtoB: Impairments{Drop: drop}})
	write(t, a, []byte{0, 0, 0, 1, 0x00}, []byte{0, 0, 0, 2, 0xAA}, []byte{0, 0, 0, 3, 0xAA})
	got := drain(t, b)
	if len(got) != 2 || idOf(got[0]) != 1 || idOf(got[1]) != 3 {
		t.Fatalf("received %x, want packets 1 and 3", got)
	}
	if s := a.Stats(); s != (PipeStats{Sent: 3, Delivered: 2, Filtered: 1}) {
		t.Fatalf("stats %+v", s)
	}

	// The filter runs before random loss, so it sees every packet.
	calls := 0
	a, _ = Pipe(PipeConfig{AtoB: Impairments{Loss: 1, Drop: func([]byte) bool { calls++; return calls%2 == 0 }}})
	for range 10 {
		write(t, a, []byte{1})
	}
	if s := a.Stats(); calls != 10 || s.Filtered != 5 || s.Lost != 5 {
		t.Fatalf("%d filter calls, stats %+v", calls, s)
	}
}

func TestDelayWithSim(t *testing.T) {
	sim, a, b := simPipe(PipeConfig{AtoB: Impairments{Delay: 10 * time.Millisecond}})
	write(t, a, []byte("late"))
	if b.rx.len() != 0 {
		t.Fatal("delayed packet readable at once")
	}
	if sim.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1 timer for the packet in flight", sim.Pending())
	}
	sim.Advance(10*time.Millisecond - time.Nanosecond)
	if b.rx.len() != 0 {
		t.Fatal("delayed packet readable before the delay passed")
	}
	sim.Advance(time.Nanosecond)
	if got := drain(t, b); len(got) != 1 || string(got[0]) != "late" {
		t.Fatalf("read %q after the delay, want [late]", got)
	}
	// The other direction is undelayed.
	write(t, b, []byte("quick"))
	if got := drain(t, a); len(got) != 1 {
		t.Fatal("BtoA packet was delayed")
	}
}

func TestJitterStaysInRange(t *testing.T) {
	const delay, jitter = 10 * time.Millisecond, 5 * time.Millisecond
	sim, a, b := simPipe(PipeConfig{Seed: 9, AtoB: Impairments{Delay: delay, Jitter: jitter}})
	for i := range 200 {
		write(t, a, numbered(uint32(i), 40))
	}
	sim.Advance(delay - time.Nanosecond)
	if b.rx.len() != 0 {
		t.Fatal("packet arrived before Delay")
	}
	sim.Advance(jitter / 2)
	if n := b.rx.len(); n == 0 || n == 200 {
		t.Fatalf("%d of 200 packets arrived in the first half of the jitter window", n)
	}
	sim.Advance(jitter / 2)
	if n := b.rx.len(); n != 200 {
		t.Fatalf("%d of 200 packets arrived by Delay+Jitter", n)
	}
}

func TestReorderDelay(t *testing.T) {
	sim, a, b := simPipe(PipeConfig{AtoB: Impairments{Reorder: 1, Delay: 2 * time.Millisecond}})
	write(t, a, []byte{1})
	// Held back by Delay + (Delay + default ReorderDelay of 1ms) = 5ms.
	sim.Advance(5*time.Millisecond - time.Nanosecond)
	if b.rx.len() != 0 {
		t.Fatal("reordered packet arrived early")
	}
	sim.Advance(time.Nanosecond)
	if b.rx.len() != 1 {
		t.Fatal("reordered packet did not arrive after Delay+Delay+ReorderDelay")
	}
}

func TestDelayKeepsOrderOnRealClock(t *testing.T) {
	// Equal delays must not shuffle packets, even though real timers
	// run their callbacks in separate goroutines.
	a, b := Pipe(PipeConfig{AtoB: Impairments{Delay: 200 * time.Microsecond}})
	const n = 500
	go func() {
		for i := range n {
			a.WritePackets([][]byte{numbered(uint32(i), 40)})
		}
	}()
	bufs := [][]byte{make([]byte, 40)}
	sizes := make([]int, 1)
	for i := range n {
		if _, err := b.ReadPackets(bufs, sizes); err != nil {
			t.Fatal(err)
		}
		if id := idOf(bufs[0]); id != uint32(i) {
			t.Fatalf("packet %d arrived in position %d", id, i)
		}
	}
}

func TestBandwidth(t *testing.T) {
	// 1250 bytes at 1 Mbit/s take 10ms to serialize, plus 5ms of delay:
	// a burst of three arrives at 15, 25 and 35ms.
	sim, a, b := simPipe(PipeConfig{AtoB: Impairments{Bandwidth: 1e6, Delay: 5 * time.Millisecond}})
	pkt := make([]byte, 1250)
	write(t, a, pkt, pkt, pkt)
	advanceTo := func(d time.Duration) { sim.Advance(epoch.Add(d).Sub(sim.Now())) }
	expect := func(want int) {
		t.Helper()
		if got := b.rx.len(); got != want {
			t.Fatalf("at %v: %d packets arrived, want %d", sim.Now().Sub(epoch), got, want)
		}
	}
	for i, at := range []time.Duration{15, 25, 35} {
		advanceTo(at*time.Millisecond - time.Nanosecond)
		expect(i)
		advanceTo(at * time.Millisecond)
		expect(i + 1)
	}
	// An idle link does not bank its spare capacity: a packet sent at
	// 100ms still takes 10ms + 5ms.
	advanceTo(100 * time.Millisecond)
	write(t, a, pkt)
	advanceTo(115*time.Millisecond - time.Nanosecond)
	expect(3)
	advanceTo(115 * time.Millisecond)
	expect(4)
}
