package link

import "sync"

// queue holds the packets waiting to be read at one end of a Pipe, plus a
// free list of spent buffers for writers toward that end. Keeping both
// under one mutex lets the no-impairment path copy a whole batch in with a
// single lock and no allocation.
type queue struct {
	mu      sync.Mutex
	ready   sync.Cond // signalled when packets arrive or the queue closes
	ring    [][]byte  // circular; grows on demand up to limit
	head, n int
	limit   int
	waiting int // readers blocked in ready.Wait
	closed  bool
	free    [][]byte // spent buffers, each with capacity bufCap
	bufCap  int
}

func newQueue(limit, bufCap int) *queue {
	q := &queue{limit: limit, bufCap: bufCap}
	q.ready.L = &q.mu
	return q
}

// getLocked returns a buffer of length n, recycled when possible.
func (q *queue) getLocked(n int) []byte {
	if k := len(q.free); k > 0 && cap(q.free[k-1]) >= n {
		b := q.free[k-1]
		q.free = q.free[:k-1]
		return b[:n]
	}
	// Larger than the MTU (a pipe with offloads): its own size, kept in
	// the free list for the next large one.
	return make([]byte, n, max(n, q.bufCap))
}

// get is getLocked for callers that do not hold the lock.
func (q *queue) get(n int) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.getLocked(n)
}

// putLocked recycles b. The free list never outgrows the queue limit:
// beyond that, buffers only pile up after bursts, so let the GC have them.
func (q *queue) putLocked(b []byte) {
	if !q.closed && len(q.free) < q.limit {
		q.free = append(q.free, b)
	}
}

// pushLocked appends b, reporting false (and recycling b) if the queue is
// full or closed.
func (q *queue) pushLocked(b []byte) bool {
	if q.closed || q.n == q.limit {
		q.putLocked(b)
		return false
	}
	if q.n == len(q.ring) {
		q.grow()
	}
	q.ring[(q.head+q.n)%len(q.ring)] = b
	q.n++
	return true
}

// grow doubles the ring (up to limit), unwrapping it into the new slice.
func (q *queue) grow() {
	size := min(max(2*len(q.ring), 16), q.limit)
	ring := make([][]byte, size)
	for i := range q.n {
		ring[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = ring, 0
}

// unlockAndWake releases the lock, waking readers if any are blocked.
// Checking waiting under the lock means a lone writer with no reader
// asleep pays nothing for the wakeup.
func (q *queue) unlockAndWake() {
	wake := q.waiting > 0 && q.n > 0
	q.mu.Unlock()
	if wake {
		q.ready.Broadcast()
	}
}

// read blocks until a packet is queued, then copies out as many as fit.
func (q *queue) read(bufs [][]byte, sizes []int) (int, error) {
	want := min(len(bufs), len(sizes))
	q.mu.Lock()
	defer q.mu.Unlock()
	for want > 0 && q.n == 0 && !q.closed {
		q.waiting++
		q.ready.Wait()
		q.waiting--
	}
	if q.closed {
		return 0, ErrClosed
	}
	k := 0
	for ; k < want && q.n > 0; k++ {
		b := q.ring[q.head]
		q.ring[q.head] = nil
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		sizes[k] = copy(bufs[k], b)
		q.putLocked(b)
	}
	return k, nil
}

// close drops the queued packets and wakes every blocked reader.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	for q.n > 0 {
		q.ring[q.head] = nil
		q.head = (q.head + 1) % len(q.ring)
		q.n--
	}
	q.free = nil
	q.mu.Unlock()
	q.ready.Broadcast()
}

// len returns the number of packets waiting to be read.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
