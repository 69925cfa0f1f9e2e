package host

import "net/netip"

// Receive queue bounds for a UDP socket: a datagram count and a byte
// budget (like SO_RCVBUF; Linux's default is 212992 bytes).
const (
	QueueDatagrams = 128
	QueueBytes     = 212992
)

// queue is a socket's bounded receive queue, a ring of datagrams. Each
// slot keeps its buffer once grown, so after the first few datagrams
// queueing copies and allocates nothing. Owned by its Host.
type queue struct {
	slots    []queueSlot
	head, n  int
	bytes    int
	maxBytes int
}

type queueSlot struct {
	from netip.AddrPort
	buf  []byte
}

func (q *queue) init(maxBytes int) {
	q.slots = make([]queueSlot, QueueDatagrams)
	q.maxBytes = maxBytes
}

// push copies p into the queue, or reports false if it is full.
func (q *queue) push(from netip.AddrPort, p []byte) bool {
	if q.n == len(q.slots) || q.bytes+len(p) > q.maxBytes && q.n > 0 {
		return false
	}
	sl := &q.slots[(q.head+q.n)%len(q.slots)]
	if cap(sl.buf) < len(p) {
		sl.buf = make([]byte, len(p), max(len(p), 2048))
	}
	sl.buf = sl.buf[:len(p)]
	copy(sl.buf, p)
	sl.from = from
	q.n++
	q.bytes += len(p)
	return true
}

// pop copies the oldest datagram into p (truncating it, as recvfrom
// does) and returns its length and sender; ok is false if the queue is
// empty.
func (q *queue) pop(p []byte) (n int, from netip.AddrPort, ok bool) {
	if q.n == 0 {
		return 0, netip.AddrPort{}, false
	}
	sl := &q.slots[q.head]
	n = copy(p, sl.buf)
	from = sl.from
	q.bytes -= len(sl.buf)
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	return n, from, true
}
