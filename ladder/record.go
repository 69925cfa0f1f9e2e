package ladder

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/tcp"
)

// Recorder collects the events of two stacks talking to each other. Each
// stack gets its own Tracer (from Tracer) that knows its side; all of them
// append here under one mutex, stamping events with the shared clock.
type Recorder struct {
	now func() time.Duration
	// Observe, if set before the first event, is called with each event
	// as it is recorded (under the recorder's lock).
	Observe func(*Event)

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced on every append
}

// NewRecorder returns a recorder stamping events with now, the time since
// the start.
func NewRecorder(now func() time.Duration) *Recorder {
	return &Recorder{now: now, changed: make(chan struct{})}
}

func (r *Recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.At = r.now()
	if r.Observe != nil {
		r.Observe(&e)
	}
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Tracer returns the Tracer for the stack drawn on side s.
func (r *Recorder) Tracer(s Side) threeway.Tracer { return sideTracer{r, s} }

// Initial records a host's starting state, drawn before anything else
// that happens at the same instant.
func (r *Recorder) Initial(s Side, text string) { r.add(Event{Side: s, Kind: Init, Text: text}) }

// Note records something the application on side s did.
func (r *Recorder) Note(s Side, text string) { r.add(Event{Side: s, Kind: Note, Text: text}) }

// Events returns the events in drawing order (see SortEvents).
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	evs := slices.Clone(r.events)
	r.mu.Unlock()
	SortEvents(evs)
	return evs
}

// SortEvents puts events recorded at two hosts in drawing order: by time,
// then initial states first, then the client's before the server's, each
// host's in the order they happened. Within one host that order is causal
// (the stack serializes its work under its lock); across hosts, events at
// the same simulated instant cannot cause each other (the link has a
// delay), so putting the client's first makes the output the same on
// every run whatever order the goroutines happened to record them in.
func SortEvents(evs []Event) {
	rank := func(e *Event) int {
		if e.Kind == Init {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(evs, func(a, b Event) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		if ra, rb := rank(&a), rank(&b); ra != rb {
			return ra - rb
		}
		return int(a.Side) - int(b.Side)
	})
}

// Wait blocks until cond holds for the events recorded so far (in
// recording order) or ctx is done.
func (r *Recorder) Wait(ctx context.Context, cond func([]Event) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sideTracer is a threeway.Tracer feeding a Recorder for one side. The
// stack calls it with its lock held; it only takes the recorder's lock
// and reads the clock, so it never calls back into a stack.
type sideTracer struct {
	r    *Recorder
	side Side
}

func (t sideTracer) Segment(dir threeway.Direction, tu tcp.Tuple, seg *tcp.Segment) {
	k := Recv
	if dir == threeway.Outbound {
		k = Send
	}
	t.r.add(Event{Side: t.side, Kind: k, Tuple: tu, Seg: SegOf(seg)})
}

func (t sideTracer) StateChanged(tu tcp.Tuple, from, to tcp.State) {
	t.r.add(Event{Side: t.side, Kind: State, Tuple: tu, From: from, To: to})
}

func (t sideTracer) Dropped(tu tcp.Tuple, seg *tcp.Segment, reason tcp.DropReason) {
	t.r.add(Event{Side: t.side, Kind: Drop, Tuple: tu, Seg: SegOf(seg), Reason: reason})
}
