package host

import (
	"net/netip"
	"syscall"
	"time"
)

// Socket is a datagram socket: a UDP socket, a forwarded UDP flow, or an
// ICMP echo (ping) socket. Its receive queue is read with Pop.
type Socket struct {
	User   any // the runtime's wrapper
	key    Key
	local  netip.AddrPort // as the user sees it
	remote netip.AddrPort // the peer of a connected socket, else invalid
	q      queue
	err    syscall.Errno // a hard ICMP error for the next call (SO_ERROR)
	flow   *flow         // set for a forwarded UDP flow
	ping   pingKey       // set for an echo socket
	bound  bool
}

func newSocket(local, remote netip.AddrPort) *Socket {
	s := &Socket{local: local, remote: remote}
	s.q.init(QueueBytes)
	return s
}

// Local is the socket's local endpoint; a forwarded flow's is the
// destination its client sent to.
func (s *Socket) Local() netip.AddrPort { return s.local }

// Remote is the peer of a connected socket, or invalid.
func (s *Socket) Remote() netip.AddrPort { return s.remote }

// Key is the socket's binding.
func (s *Socket) Key() Key { return s.key }

// Forwarder is the forwarder of a forwarded UDP flow, or nil.
func (s *Socket) Forwarder() *UDPForwarder {
	if s.flow == nil {
		return nil
	}
	return s.flow.fwd
}

// Pop copies the oldest queued datagram into p (truncating, as recvfrom
// does); ok is false when there is none.
func (s *Socket) Pop(p []byte) (n int, from netip.AddrPort, ok bool) { return s.q.pop(p) }

// TakeErr returns and clears a pending ICMP error.
func (s *Socket) TakeErr() syscall.Errno {
	e := s.err
	s.err = 0
	return e
}

// Idle reports whether a forwarded flow ended after its idle timeout.
func (s *Socket) Idle() bool { return s.flow != nil && s.flow.expired }

// SetReadBuffer bounds the receive queue to n bytes (SO_RCVBUF); at least
// one datagram is always taken.
func (s *Socket) SetReadBuffer(n int) { s.q.maxBytes = max(n, 0) }

// deliver queues a datagram, or counts it dropped when the queue is full.
func (h *Host) deliver(now time.Duration, s *Socket, from netip.AddrPort, p []byte) {
	if !s.q.push(from, p) {
		h.stats.UDP.RcvbufErrors++
		h.udpDrop(dropRecvQueueFull)
		return
	}
	h.stats.UDP.InDatagrams++
	if s.flow != nil {
		s.flow.lastActive = now
	}
	h.emit(Event{Kind: ReadableEvent, Socket: s})
}

// Queued is how many datagrams and bytes wait in the receive queue.
func (s *Socket) Queued() (datagrams, bytes int) { return s.q.n, s.q.bytes }
