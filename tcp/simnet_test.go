package tcp

// simNet is a network of stacks made of the core alone, for tests that
// need many packets on the simulated clock: each simHost is what the
// runtime keeps (an Env, a listener, connections by tuple, the TIME-WAIT
// hand-off), and the path between the two hosts has a bandwidth and a
// delay. Anyone may inject a segment at a host (the off-path attacker).

import (
	"container/heap"
	"time"
)

type simHost struct {
	env   *Env
	l     *Listener // nil: no listener
	lport uint16
	conns map[Tuple]*Conn
	out   Output
}

func newSimHost(cfg Config, secret byte, lport uint16) *simHost {
	h := &simHost{env: NewEnv(cfg, [16]byte{secret}), conns: map[Tuple]*Conn{}, lport: lport}
	if lport != 0 {
		h.l = NewListener(h.env)
	}
	return h
}

// input is the runtime's inputTCP: t is seen from this host.
func (h *simHost) input(now time.Duration, t Tuple, seg *Segment) {
	if c := h.conns[t]; c != nil {
		if !c.InputMayReopen(now, seg, &h.out, h.l != nil && t.LocalPort == h.lport) {
			return
		}
		delete(h.conns, t)
	}
	if h.l != nil && t.LocalPort == h.lport {
		if child := h.l.Input(now, t, seg, &h.out); child != nil {
			h.conns[t] = child
		}
		return
	}
	// RFC 9293 §3.10.7.1: no connection, a reset.
	o := h.out.push(t)
	if !ResetFor(seg, o) {
		h.out.Segs = h.out.Segs[:len(h.out.Segs)-1]
	}
}

// poll runs every connection's timers and output, accepts, and forgets
// closed connections.
func (h *simHost) poll(now time.Duration) {
	for t, c := range h.conns {
		c.Poll(now, &h.out)
		if c.State() == Closed {
			delete(h.conns, t)
		}
	}
	if h.l != nil {
		for h.l.Accept() != nil {
		}
	}
}

func (h *simHost) deadline() time.Duration {
	d := Never
	for _, c := range h.conns {
		d = min(d, c.Deadline())
	}
	return d
}

// arrival is a segment due at a host.
type arrival struct {
	at  time.Duration
	n   uint64 // FIFO among equal times
	dst *simHost
	t   Tuple // seen from dst
	seg Segment
}

type arrivals []*arrival

func (a arrivals) Len() int { return len(a) }
func (a arrivals) Less(i, j int) bool {
	return a[i].at < a[j].at || a[i].at == a[j].at && a[i].n < a[j].n
}
func (a arrivals) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)   { *a = append(*a, x.(*arrival)) }
func (a *arrivals) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// simPath is one direction of the path: a serializing bottleneck of rate
// bytes per second followed by a fixed delay.
type simPath struct {
	rate  float64
	delay time.Duration
	free  time.Duration // when the bottleneck is next idle
}

type simNet struct {
	now    time.Duration
	a, b   *simHost
	ab, ba simPath
	q      arrivals
	n      uint64
	// sent, if set, sees every segment a host sends, before the path.
	sent func(from *simHost, t Tuple, seg *Segment)
	// inject, if set, is called when the clock reaches injectAt and
	// returns the next time it wants to be called.
	inject   func(now time.Duration) time.Duration
	injectAt time.Duration
}

// wireBytes is a segment's size on the wire with IPv4 and TCP headers.
func wireBytes(s *Segment) int { return 40 + s.Options.Len() + len(s.Payload) }

// flush sends what h produced into the path toward the other host.
func (n *simNet) flush(h *simHost) {
	other, p := n.b, &n.ab
	if h == n.b {
		other, p = n.a, &n.ba
	}
	for i := range h.out.Segs {
		os := &h.out.Segs[i]
		if n.sent != nil {
			n.sent(h, os.Tuple, &os.Seg)
		}
		start := max(n.now, p.free)
		p.free = start + time.Duration(float64(wireBytes(&os.Seg))/p.rate*float64(time.Second))
		seg := os.Seg
		seg.Payload = append([]byte(nil), seg.Payload...)
		n.n++
		heap.Push(&n.q, &arrival{at: p.free + p.delay, n: n.n, dst: other, t: os.Tuple.Reverse(), seg: seg})
	}
	h.out.Reset()
}

// deliverNow hands seg to h at once, as an injected packet, and sends
// whatever h answers.
func (n *simNet) deliverNow(h *simHost, t Tuple, seg *Segment) {
	h.input(n.now, t, seg)
	n.flush(h)
}

// run advances the simulation until until() or the clock reaches end; it
// reports whether until() became true.
func (n *simNet) run(end time.Duration, until func() bool) bool {
	injectAt := Never
	if n.inject != nil {
		injectAt = n.injectAt
	}
	for {
		if until != nil && until() {
			return true
		}
		for _, h := range []*simHost{n.a, n.b} {
			h.poll(n.now)
			n.flush(h)
		}
		next := min(n.a.deadline(), n.b.deadline(), injectAt)
		if len(n.q) > 0 {
			next = min(next, n.q[0].at)
		}
		if next == Never || next > end {
			n.now = max(n.now, end)
			return false
		}
		n.now = max(n.now, next)
		for len(n.q) > 0 && n.q[0].at <= n.now {
			a := heap.Pop(&n.q).(*arrival)
			a.dst.input(n.now, a.t, &a.seg)
			n.flush(a.dst)
		}
		if injectAt <= n.now {
			injectAt = n.inject(n.now)
			for _, h := range []*simHost{n.a, n.b} {
				n.flush(h)
			}
		}
	}
}

// connect opens a connection from a (tuple t, seen from a) to b's
// listener and runs until both ends are established.
func (n *simNet) connect(t Tuple) (client, server *Conn) {
	client = NewActive(n.a.env, t, n.now)
	n.a.conns[t] = client
	n.run(n.now+time.Minute, func() bool {
		server = n.b.conns[t.Reverse()]
		return client.State() == Established && server != nil && server.State() == Established
	})
	return client, server
}
