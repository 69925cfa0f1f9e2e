package threeway

import "github.com/threeway-tcp/threeway/host"

// unlock releases the stack's lock and writes the packets queued under it
// to the link, outside the lock: a slow link (a pcap sink, a full device
// queue) stalls only the caller writing, never the others. One caller
// writes at a time, taking every queued batch in order, so packets leave
// in the order the host built them; a caller that finds another writing
// leaves its packets to that one.
func (s *Stack) unlock() {
	if s.writing || len(s.txq) == 0 {
		s.mu.Unlock()
		return
	}
	s.writing = true
	for len(s.txq) > 0 {
		batches := s.txq
		s.txq = s.txSpare[:0]
		s.mu.Unlock()
		for _, b := range batches {
			s.writeBatch(b)
		}
		s.mu.Lock()
		for _, b := range batches {
			s.host.Recycle(b)
		}
		clear(batches)
		s.txSpare = batches[:0]
	}
	s.writing = false
	s.mu.Unlock()
}

// writeBatch writes one batch. A link error (a full device queue, say) is
// loss, which TCP repairs.
func (s *Stack) writeBatch(b *host.Batch) {
	if s.olink == nil {
		_ = s.link.WritePackets(b.Pkts)
		return
	}
	info := s.txInfo[:len(b.Pkts)]
	for i, m := range b.Meta {
		info[i].GSOSize, info[i].PartialChecksum = m.GSOSize, m.PartialChecksum
	}
	_ = s.olink.WritePacketsInfo(b.Pkts, info)
	clear(info)
}
