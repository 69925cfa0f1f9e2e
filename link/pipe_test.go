package link

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPipeBothWays(t *testing.T) {
	a, b := Pipe(PipeConfig{})
	write(t, a, []byte("from a"))
	write(t, b, []byte("from b"), []byte("again"))

	if got := drain(t, b); len(got) != 1 || string(got[0]) != "from a" {
		t.Fatalf("b read %q, want [from a]", got)
	}
	if got := drain(t, a); len(got) != 2 || string(got[0]) != "from b" || string(got[1]) != "again" {
		t.Fatalf("a read %q, want [from b again]", got)
	}
	if s := a.Stats(); s != (PipeStats{Sent: 1, Delivered: 1}) {
		t.Fatalf("a stats %+v", s)
	}
	if s := b.Stats(); s != (PipeStats{Sent: 2, Delivered: 2}) {
		t.Fatalf("b stats %+v", s)
	}
	if a.MTU() != 1500 {
		t.Fatalf("default MTU %d, want 1500", a.MTU())
	}
}

func TestPipeBatching(t *testing.T) {
	a, b := Pipe(PipeConfig{})
	var pkts [][]byte
	for i := range 5 {
		pkts = append(pkts, numbered(uint32(i), 40+i))
	}
	write(t, a, pkts...)

	bufs := [][]byte{make([]byte, 100), make([]byte, 100)}
	sizes := make([]int, 2)
	var got []uint32
	for _, want := range []int{2, 2, 1} {
		n, err := b.ReadPackets(bufs, sizes)
		if err != nil || n != want {
			t.Fatalf("ReadPackets = %d, %v; want %d", n, err, want)
		}
		for i := range n {
			if !bytes.Equal(bufs[i][:sizes[i]], pkts[idOf(bufs[i])]) {
				t.Fatalf("packet %d corrupted in transit", idOf(bufs[i]))
			}
			got = append(got, idOf(bufs[i]))
		}
	}
	if want := []uint32{0, 1, 2, 3, 4}; !equalIDs(got, want) {
		t.Fatalf("read order %v, want %v", got, want)
	}
}

func equalIDs(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPipeReadTruncatesAndFillsSizes(t *testing.T) {
	a, b := Pipe(PipeConfig{})
	write(t, a, []byte("0123456789"), []byte("ab"))
	bufs := [][]byte{make([]byte, 4), make([]byte, 4), make([]byte, 4)}
	sizes := []int{-1, -1, -1}
	n, err := b.ReadPackets(bufs, sizes)
	if err != nil || n != 2 {
		t.Fatalf("ReadPackets = %d, %v; want 2", n, err)
	}
	if sizes[0] != 4 || string(bufs[0]) != "0123" || sizes[1] != 2 || string(bufs[1][:2]) != "ab" {
		t.Fatalf("sizes %v bufs %q", sizes, bufs)
	}
	if sizes[2] != -1 {
		t.Fatal("ReadPackets touched sizes beyond the count")
	}
}

func TestPipeCopiesOnWrite(t *testing.T) {
	a, b := Pipe(PipeConfig{})
	buf := []byte("original")
	write(t, a, buf)
	copy(buf, "CLOBBER!")
	if got := drain(t, b); string(got[0]) != "original" {
		t.Fatalf("read %q: the pipe kept the caller's buffer", got[0])
	}
}

func TestPipeTooBig(t *testing.T) {
	a, b := Pipe(PipeConfig{MTU: 100})
	err := a.WritePackets([][]byte{make([]byte, 50), make([]byte, 101)})
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("WritePackets = %v, want ErrTooBig", err)
	}
	if s := a.Stats(); s.Sent != 0 || b.rx.len() != 0 {
		t.Fatalf("part of a rejected batch was sent: %+v", s)
	}
	write(t, a, make([]byte, 100))
}

func TestPipeReadWithNoRoom(t *testing.T) {
	_, b := Pipe(PipeConfig{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := b.ReadPackets(nil, nil); n != 0 || err != nil {
			t.Errorf("ReadPackets(nil) = %d, %v", n, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ReadPackets with no buffers blocked")
	}
}

func TestPipeQueueOverflow(t *testing.T) {
	run := func(t *testing.T, cfg PipeConfig) {
		cfg.QueueLen = 4
		sim, a, b := simPipe(cfg)
		for i := range 10 {
			write(t, a, numbered(uint32(i), 40))
		}
		sim.Advance(time.Second)
		if s := a.Stats(); s.Sent != 10 || s.Delivered != 4 || s.QueueDrops != 6 {
			t.Fatalf("stats %+v, want 10 sent, 4 delivered, 6 queue drops", s)
		}
		got := drain(t, b)
		if len(got) != 4 || idOf(got[0]) != 0 || idOf(got[3]) != 3 {
			t.Fatalf("read %d packets, want the first 4", len(got))
		}
		// Reading made room again.
		write(t, a, numbered(10, 40))
		sim.Advance(time.Second)
		if got := drain(t, b); len(got) != 1 || idOf(got[0]) != 10 {
			t.Fatal("queue did not accept packets after being drained")
		}
	}
	t.Run("direct", func(t *testing.T) { run(t, PipeConfig{}) })
	t.Run("delayed", func(t *testing.T) {
		run(t, PipeConfig{AtoB: Impairments{Delay: time.Millisecond}})
	})
}

func TestPipeCloseWakesBlockedReader(t *testing.T) {
	a, b := Pipe(PipeConfig{})
	errc := make(chan error, 1)
	go func() {
		_, err := b.ReadPackets([][]byte{make([]byte, 1500)}, make([]int, 1))
		errc <- err
	}()
	// Wait until the reader is really asleep in ReadPackets.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.rx.mu.Lock()
		waiting := b.rx.waiting
		b.rx.mu.Unlock()
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("reader never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("blocked ReadPackets returned %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the blocked reader")
	}

	if err := b.WritePackets([][]byte{{1}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("WritePackets after Close = %v, want ErrClosed", err)
	}
	if _, err := b.ReadPackets([][]byte{make([]byte, 1)}, make([]int, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadPackets after Close = %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The peer still works; its packets just go nowhere.
	if err := a.WritePackets([][]byte{{1}}); err != nil {
		t.Fatalf("writing toward a closed end: %v", err)
	}
	if s := a.Stats(); s.QueueDrops != 1 || s.Delivered != 0 {
		t.Fatalf("stats %+v, want the packet counted as a queue drop", s)
	}
}

func TestPipeCloseDropsPacketsInFlight(t *testing.T) {
	sim, a, b := simPipe(PipeConfig{AtoB: Impairments{Delay: time.Second}})
	write(t, a, []byte{1}, []byte{2})
	b.Close()
	if sim.Pending() != 0 {
		t.Fatalf("%d timers still pending after Close", sim.Pending())
	}
	write(t, a, []byte{3})
	sim.Advance(time.Hour)
	if s := a.Stats(); s.Sent != 3 || s.QueueDrops != 3 || s.Delivered != 0 {
		t.Fatalf("stats %+v, want 3 sent and dropped", s)
	}
}

// TestPipeConcurrent runs writers on both ends and readers on both ends,
// checking that each writer's packets arrive complete and in order.
func TestPipeConcurrent(t *testing.T) {
	const writers, perWriter = 4, 2000
	a, b := Pipe(PipeConfig{QueueLen: writers * perWriter})
	var wg sync.WaitGroup
	for _, ends := range [][2]*PipeEnd{{a, b}, {b, a}} {
		from, to := ends[0], ends[1]
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					p := numbered(uint32(w<<16|i), 64)
					if err := from.WritePackets([][]byte{p}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := make([]int, writers)
			bufs := [][]byte{make([]byte, 64), make([]byte, 64), make([]byte, 64)}
			sizes := make([]int, len(bufs))
			for got := 0; got < writers*perWriter; {
				n, err := to.ReadPackets(bufs, sizes)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range n {
					id := idOf(bufs[i])
					w, seq := int(id>>16), int(id&0xffff)
					if seq != next[w] || sizes[i] != 64 {
						t.Errorf("writer %d: got packet %d (%d bytes), want %d", w, seq, sizes[i], next[w])
						return
					}
					next[w]++
				}
				got += n
			}
		}()
	}
	wg.Wait()
}
