package link

import "time"

// inFlight is a packet on the wire, due at the receiver at time at.
type inFlight struct {
	at  time.Time
	seq uint64 // send order, so equal arrival times keep FIFO order
	pkt []byte
}

// flightHeap is a min-heap of packets ordered by (at, seq). It is written
// by hand rather than with container/heap to keep the values unboxed.
type flightHeap []inFlight

func (h flightHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *flightHeap) push(f inFlight) {
	*h = append(*h, f)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *flightHeap) pop() inFlight {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = inFlight{}
	s = s[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s.less(l, small) {
			small = l
		}
		if r < len(s) && s.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}
