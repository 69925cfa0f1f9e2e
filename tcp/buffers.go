package tcp

import (
	"sync"

	"github.com/threeway-tcp/threeway/seqnum"
)

// bufferPool recycles connection buffers of one size, so an idle
// connection holds no buffer memory and a busy one does not allocate.
type bufferPool struct {
	size int
	pool sync.Pool
}

// get returns a buffer of size bytes. Buffers travel as *[]byte, the
// pointer kept by their owner, so that put does not allocate a new box
// for the slice header each time (which made every drained receive
// buffer cost an allocation).
func (p *bufferPool) get(size int) *[]byte {
	if size == p.size {
		if b, ok := p.pool.Get().(*[]byte); ok {
			return b
		}
	}
	b := make([]byte, size)
	return &b
}

func (p *bufferPool) put(b *[]byte) {
	if b == nil || len(*b) != p.size {
		return
	}
	p.pool.Put(b)
}

// sendBuffer is a ring of bytes written by the user and not yet
// acknowledged. Its first byte has sequence number Conn.bufSeq.
type sendBuffer struct {
	buf   []byte
	box   *[]byte // buf's pool handle
	head  int
	n     int
	limit int
}

func (b *sendBuffer) free() int { return b.limit - b.n }

func (b *sendBuffer) write(p []byte, pool *bufferPool) int {
	k := min(len(p), b.free())
	if k == 0 {
		return 0
	}
	if b.buf == nil {
		b.box = pool.get(b.limit)
		b.buf = *b.box
		b.head = 0
	}
	tail := (b.head + b.n) % len(b.buf)
	c := copy(b.buf[tail:], p[:k])
	if c < k {
		copy(b.buf, p[c:k])
	}
	b.n += k
	return k
}

// peek returns up to max bytes starting off bytes past the head. The slice
// stops at the end of the ring, so it may be shorter than asked for.
func (b *sendBuffer) peek(off, max int) []byte {
	if off >= b.n || max <= 0 {
		return nil
	}
	max = min(max, b.n-off)
	start := (b.head + off) % len(b.buf)
	end := min(start+max, len(b.buf))
	return b.buf[start:end]
}

func (b *sendBuffer) consume(k int, pool *bufferPool) {
	k = min(k, b.n)
	b.n -= k
	if b.n == 0 {
		b.head = 0
		if b.buf != nil {
			pool.put(b.box)
			b.buf, b.box = nil, nil
		}
		return
	}
	b.head = (b.head + k) % len(b.buf)
}

func (b *sendBuffer) release(pool *bufferPool) {
	if b.buf != nil {
		pool.put(b.box)
		b.buf, b.box = nil, nil
	}
	b.n, b.head = 0, 0
}

// seqRange is a block of received sequence space [start, end).
type seqRange struct{ start, end seqnum.Value }

// maxOOORanges bounds the out-of-order ranges a connection tracks; a
// segment that would need another range is dropped (the peer retransmits).
const maxOOORanges = 16

// recvBuffer holds received data: n in-order bytes from head, then
// out-of-order blocks at their place in the ring, listed in ooo.
type recvBuffer struct {
	buf    []byte
	box    *[]byte // buf's pool handle
	head   int
	n      int
	limit  int
	ooo    []seqRange // sorted, disjoint, all beyond the in-order data
	latest int        // index in ooo of the block holding the newest segment, or -1 (RFC 2018 §4)
}

func (b *recvBuffer) free() int { return b.limit - b.n }

// insert stores data whose first byte is seq; next is the sequence number
// of the first byte after the in-order data. The caller has trimmed data
// to the window, so it fits. It reports false if the data had to be
// dropped because too many out-of-order blocks are held.
func (b *recvBuffer) insert(next, seq seqnum.Value, data []byte, pool *bufferPool) bool {
	if len(data) == 0 {
		return true
	}
	end := seq.Add(seqnum.Size(len(data)))
	// Find where the block goes and whether it merges with neighbours.
	i := 0
	for i < len(b.ooo) && b.ooo[i].end.LessThan(seq) {
		i++
	}
	j := i
	for j < len(b.ooo) && b.ooo[j].start.LessThanEq(end) {
		j++
	}
	if i == j && len(b.ooo) >= maxOOORanges && seq != next {
		// Text at RCV.NXT is always taken: advance merges it at once.
		return false
	}
	if b.buf == nil {
		b.box = pool.get(b.limit)
		b.buf = *b.box
		b.head = 0
	}
	off := b.n + int(next.Size(seq))
	pos := (b.head + off) % len(b.buf)
	c := copy(b.buf[pos:], data)
	if c < len(data) {
		copy(b.buf, data[c:])
	}
	r := seqRange{seq, end}
	if i < j {
		r.start = seqnum.Min(r.start, b.ooo[i].start)
		r.end = seqnum.Max(r.end, b.ooo[j-1].end)
		b.ooo[i] = r
		b.ooo = append(b.ooo[:i+1], b.ooo[j:]...)
	} else {
		b.ooo = append(b.ooo, seqRange{})
		copy(b.ooo[i+1:], b.ooo[i:])
		b.ooo[i] = r
	}
	b.latest = i
	return true
}

// advance moves blocks that start at next into the in-order data and
// returns how many bytes the in-order data grew by.
func (b *recvBuffer) advance(next seqnum.Value) int {
	if len(b.ooo) == 0 || b.ooo[0].start.GreaterThan(next) {
		return 0
	}
	grow := int(next.Size(b.ooo[0].end))
	b.n += grow
	b.ooo = b.ooo[:copy(b.ooo, b.ooo[1:])]
	// The newest segment is now in order: no SACK block holds it.
	b.latest = -1
	return grow
}

func (b *recvBuffer) read(p []byte, pool *bufferPool) int {
	k := min(len(p), b.n)
	if k == 0 {
		return 0
	}
	c := copy(p[:k], b.buf[b.head:])
	if c < k {
		copy(p[c:k], b.buf)
	}
	b.n -= k
	b.head = (b.head + k) % len(b.buf)
	if b.n == 0 && len(b.ooo) == 0 {
		pool.put(b.box)
		b.buf, b.box = nil, nil
		b.head = 0
		// ooo is empty; keeping its capacity spares the next insert
		// an allocation.
	}
	return k
}

func (b *recvBuffer) release(pool *bufferPool) {
	if b.buf != nil {
		pool.put(b.box)
		b.buf, b.box = nil, nil
	}
	b.n, b.head, b.ooo = 0, 0, nil
}
