package host

import (
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// timerHeap orders connections by their next deadline so one clock timer
// serves the whole host: Deadline is the earliest, Advance runs the due.
type timerHeap []*Conn

func (h timerHeap) less(i, j int) bool { return h[i].deadline < h[j].deadline }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = int32(i)
	h[j].heapIdx = int32(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// update sets c's deadline, adding or removing c as needed.
func (h *timerHeap) update(c *Conn, at time.Duration) {
	if at == tcp.Never {
		h.remove(c)
		return
	}
	c.deadline = at
	if c.heapIdx < 0 {
		c.heapIdx = int32(len(*h))
		*h = append(*h, c)
		h.up(int(c.heapIdx))
		return
	}
	h.up(int(c.heapIdx))
	h.down(int(c.heapIdx))
}

func (h *timerHeap) remove(c *Conn) {
	i := int(c.heapIdx)
	if i < 0 {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	c.heapIdx = -1
	if i != last {
		h.up(i)
		h.down(i)
	}
}

// earliest is the first deadline, or tcp.Never.
func (h timerHeap) earliest() time.Duration {
	if len(h) == 0 {
		return tcp.Never
	}
	return h[0].deadline
}

// due removes and returns a connection whose deadline has come, or nil.
func (h *timerHeap) due(now time.Duration) *Conn {
	if len(*h) == 0 || (*h)[0].deadline > now {
		return nil
	}
	c := (*h)[0]
	h.remove(c)
	return c
}

// Timed is how many connections have a deadline: on the timer heap.
func (h *Host) Timed() int { return len(h.timers) }
