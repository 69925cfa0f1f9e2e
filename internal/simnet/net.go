package simnet

import (
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
)

var (
	errNoRoom = errors.New("simnet: the stack took no packets")
	// ErrStopped is what Waiter.Until's false means to an application:
	// the driver stopped before the condition held.
	ErrStopped = errors.New("simnet: stopped")
)

// Net is a stepped world: stacks on Ports joined by link.Pipes, all on
// one clock.Sim, and applications that the driver resumes in turn.
type Net struct {
	// Sim is the clock of the stacks and pipes; only Run moves it.
	Sim     *clock.Sim
	joined  []joined
	running []*app // applications Run left waiting, for Stop
}

// joined ties a Port to the pipe end it stands on.
type joined struct {
	port  *Port
	end   *link.PipeEnd
	bufs  [][]byte
	sizes []int
}

// New returns an empty world on sim.
func New(sim *clock.Sim) *Net { return &Net{Sim: sim} }

// Join returns a Port for a stack standing on end, a pipe end whose
// pipe runs on n.Sim: what the stack writes goes into end, and what
// arrives at end, Run hands to the stack. Closing the Port closes end.
func (n *Net) Join(end *link.PipeEnd) *Port {
	p := NewPort(end.MTU(), end.WritePackets)
	p.onClose = func() { end.Close() }
	const batch = 64
	j := joined{port: p, end: end, bufs: make([][]byte, batch), sizes: make([]int, batch)}
	for i := range j.bufs {
		j.bufs[i] = make([]byte, end.MTU())
	}
	n.joined = append(n.joined, j)
	return p
}

// deliver hands every packet waiting at a pipe end to its stack,
// reporting whether there was any.
func (n *Net) deliver() (bool, error) {
	moved := false
	for _, j := range n.joined {
		for j.end.Queued() > 0 {
			// The driver is the only reader, and nothing else runs:
			// the queue holds packets, so this does not block.
			k, err := j.end.ReadPackets(j.bufs, j.sizes)
			if err != nil {
				return moved, err
			}
			pkts := make([][]byte, k)
			for i := range k {
				pkts[i] = j.bufs[i][:j.sizes[i]]
			}
			if err := j.port.DeliverAll(pkts, nil); err != nil {
				return moved, err
			}
			moved = true
		}
	}
	return moved, nil
}

// App is an application in a stepped world: straight-line code that uses
// its stack's non-blocking calls and waits only in w.Until.
type App func(w *Waiter) error

// Waiter is an application's handle on the driver.
type Waiter struct {
	yield  func(bool) bool
	active bool // the application did something since it last yielded
}

// Until waits until cond holds: the driver checks it each time it
// resumes the application, after handing packets to the stacks and
// moving the clock. It returns false if the driver stopped first; the
// application should then return ErrStopped.
func (w *Waiter) Until(cond func() bool) bool {
	for !cond() {
		did := w.active
		w.active = false
		if !w.yield(did) {
			return false
		}
	}
	w.active = true
	return true
}

// Stop ends the applications Run left waiting: their Until reports
// false, and they return (running their deferred calls) before Stop does.
func (n *Net) Stop() {
	for _, r := range n.running {
		r.stop()
	}
	n.running = nil
}

// app is a running App.
type app struct {
	next func() (bool, bool)
	stop func()
	err  error
	done bool
}

func start(a App) *app {
	r := &app{}
	seq := func(yield func(bool) bool) {
		w := &Waiter{yield: yield, active: true}
		r.err = a(w)
		r.done = true
	}
	r.next, r.stop = iter.Pull(iter.Seq[bool](seq))
	return r
}

// Run drives the world until done reports true, or, with done nil, until
// every application has returned. Each round it hands every packet
// queued at a pipe end to its stack and resumes each waiting
// application; when neither did anything, the world is idle: Run checks
// done then, and otherwise moves the clock to the next timer. It fails if
// limit of simulated time would pass, or if nothing is left to do but
// applications still wait. Applications still waiting when Run returns
// stay suspended, with nothing recorded of them, until Stop. The
// applications' errors, in the order of apps, are returned joined.
func (n *Net) Run(limit time.Duration, done func() bool, apps ...App) error {
	deadline := n.Sim.Now().Add(limit)
	running := make([]*app, len(apps))
	for i, a := range apps {
		running[i] = start(a)
	}
	n.running = append(n.running, running...)
	errs := func() error {
		var es []error
		for _, r := range running {
			if r.err != nil {
				es = append(es, r.err)
			}
		}
		return errors.Join(es...)
	}
	for {
		moved, err := n.deliver()
		if err != nil {
			return err
		}
		waiting := 0
		for _, r := range running {
			if r.done {
				continue
			}
			did, ok := r.next()
			if !ok {
				did = true // it returned
			} else {
				waiting++
			}
			moved = moved || did
		}
		if moved {
			continue
		}
		if done != nil && done() || done == nil && waiting == 0 {
			return errs()
		}
		next, ok := n.Sim.Next()
		if !ok {
			if err := errs(); err != nil {
				return err
			}
			return fmt.Errorf("simnet: %d applications wait and no timer is pending", waiting)
		}
		if next.After(deadline) {
			if err := errs(); err != nil {
				return err
			}
			return fmt.Errorf("simnet: not done after %v of simulated time", limit)
		}
		n.Sim.AdvanceToNext()
	}
}
