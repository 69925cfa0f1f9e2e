package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// startClock lets simulated time run whenever every goroutine is waiting.
//
// AutoAdvance jumps to the next timer once nobody has used the clock for
// a quiet period of real time. On a loaded machine a goroutine that has
// work to do can look just as quiet for that long, and simulated time
// would skip past what it was about to do, changing the conversation. So
// a watcher pokes the clock (postponing the jump) while
//   - a packet the link delivered has not been read by its stack yet,
//   - a stack is busy under its lock (the watcher's Stats call waits), or
//   - an application goroutine is running, or blocked but just given
//     something that may wake it (see appGate), for at most appWake.
func (n *demoNet) startClock() {
	if n.stopAuto != nil {
		return
	}
	q := n.cfg.Quiet
	if q <= 0 {
		q = demoQuiet
	}
	stopAuto := n.sim.AutoAdvance(q)
	quit, done := make(chan struct{}), make(chan struct{})
	go n.watch(quit, done)
	n.stopAuto = func() {
		close(quit)
		<-done
		stopAuto()
	}
}

// appWake bounds how long the watcher holds simulated time for an
// application goroutine, so that a wrong guess costs only real time.
const appWake = 100 * time.Millisecond

// watch pokes the simulated clock while the demo has work pending, until
// quit is closed.
func (n *demoNet) watch(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var checking atomic.Int64 // when (real ns) the running check began; 0 if none
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			checking.Store(time.Now().UnixNano())
			unread := n.unread()
			checking.Store(0)
			if unread {
				n.sim.Poke()
			}
		}
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-quit:
			<-checked
			return
		case <-tick.C:
		}
		if t := checking.Load(); t != 0 && time.Since(time.Unix(0, t)) > time.Millisecond {
			n.sim.Poke() // a stack holds its lock
		}
		if n.gate.active(appWake) {
			n.sim.Poke()
		}
	}
}

// unread reports whether a packet the link delivered has not been read by
// its stack yet.
func (n *demoNet) unread() bool {
	delivered := [2]uint64{n.b.Stats().Delivered, n.a.Stats().Delivered} // to the client, to the server
	for s, st := range n.stacks {
		in := st.Stats()
		if in.InSegs+in.InErrs < delivered[s] {
			return true
		}
	}
	return false
}

// appGate tracks each side's application goroutine for the watcher: it
// is busy while running between blocking calls, and while blocked once
// its stack has done something that may wake it. Before it starts and
// after it finishes it is idle.
type appGate struct {
	mu      sync.Mutex
	blocked [2]bool
	busy    [2]bool
	since   [2]time.Time // real time busy began
}

// start marks side s's application as running.
func (g *appGate) start(s ladder.Side) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[s], g.busy[s], g.since[s] = false, true, time.Now()
}

// stop marks side s's application as finished.
func (g *appGate) stop(s ladder.Side) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[s], g.busy[s] = false, false
}

// wait marks side s's application as blocked and returns the function
// to call once it runs again.
func (g *appGate) wait(s ladder.Side) (resume func()) {
	g.mu.Lock()
	g.blocked[s], g.busy[s] = true, false
	g.mu.Unlock()
	return func() { g.start(s) }
}

// observe hears every recorded event.
func (g *appGate) observe(e *ladder.Event) {
	if !mayWake(e) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked[e.Side] && !g.busy[e.Side] {
		g.busy[e.Side], g.since[e.Side] = true, time.Now()
	}
}

// mayWake reports whether e may end a blocking Dial, Accept or Read.
func mayWake(e *ladder.Event) bool {
	switch e.Kind {
	case ladder.State:
		switch e.To {
		case tcp.Established, tcp.CloseWait, tcp.Closing, tcp.TimeWait, tcp.Closed:
			return true
		}
	case ladder.Recv:
		return e.Seg.Len > 0 || e.Seg.Flags&(wire.FlagFIN|wire.FlagRST) != 0
	}
	return false
}

// active reports whether an application may be about to act, giving up
// on one that has not within limit.
func (g *appGate) active(limit time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for s := range g.busy {
		if g.busy[s] && time.Since(g.since[s]) < limit {
			return true
		}
	}
	return false
}
