package link

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
)

// A packet waiting unread in a pipe on a simulated clock holds the clock:
// simulated time does not jump past it.
func TestUnreadPacketHoldsSimClock(t *testing.T) {
	sim := clock.NewSim(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b := Pipe(PipeConfig{Clock: sim})
	defer a.Close()
	defer b.Close()
	fired := make(chan struct{})
	sim.AfterFunc(time.Second, func() { close(fired) })
	stop := sim.AutoAdvance(time.Millisecond)
	defer stop()
	if err := a.WritePackets([][]byte{make([]byte, 40)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
		t.Fatal("time advanced with a packet unread")
	case <-time.After(50 * time.Millisecond):
	}
	buf := [][]byte{make([]byte, 100)}
	if n, err := b.ReadPackets(buf, []int{0}); n != 1 || err != nil {
		t.Fatalf("read %d %v", n, err)
	}
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("time never advanced after the packet was read")
	}
}
