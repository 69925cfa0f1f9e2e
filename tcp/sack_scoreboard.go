package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// segFlags say what the sender knows about one segment it sent.
type segFlags uint8

const (
	segSACKed      segFlags = 1 << iota // covered by a SACK block (RFC 6675 §2)
	segLost                             // deemed lost (RFC 6675 IsLost, RACK, RTO)
	segRetrans                          // retransmitted since it was deemed lost: back in the pipe
	segEverRetrans                      // retransmitted at least once (RFC 8985 §6.2: ambiguous RTT)
	segFIN                              // the segment's last sequence number is our FIN
)

// txSeg is one segment sent and not yet cumulatively acknowledged:
// sequence space [start, end), the FIN included, and when it last went out.
type txSeg struct {
	start, end seqnum.Value
	sentAt     time.Duration
	flags      segFlags
}

func (s *txSeg) len() uint32 { return uint32(s.start.Size(s.end)) }

// inPipe is RFC 6675 §4 SetPipe's test for one segment: it counts if it is
// not SACKed and either not deemed lost or retransmitted since.
func (f segFlags) inPipe() bool {
	return f&segSACKed == 0 && (f&segLost == 0 || f&segRetrans != 0)
}

// scoreboard is the sender's record of what it sent above SND.UNA, what
// the peer SACKed (RFC 2018, RFC 6675 §3's scoreboard) and what was deemed
// lost. Segments are kept in sequence order, contiguous from SND.UNA to
// SND.MAX; pipe, sacked and lost are kept as segments change state, so
// none of them needs a walk.
type scoreboard struct {
	segs   []txSeg
	head   int    // segs[head:] are live
	pipe   uint32 // RFC 6675 §2 "pipe": octets presumed in the network
	sacked uint32 // octets SACKed above SND.UNA
	lost   uint32 // octets deemed lost and not yet retransmitted
	// highSACK is the end of the highest SACKed segment (RFC 8985's
	// RACK.fack); valid while sacked > 0.
	highSACK seqnum.Value
}

func (sb *scoreboard) live() []txSeg { return sb.segs[sb.head:] }

func (sb *scoreboard) empty() bool { return sb.head == len(sb.segs) }

// setFlags changes segment i's flags and keeps the totals right.
func (sb *scoreboard) setFlags(i int, f segFlags) {
	s := &sb.segs[i]
	sb.account(s, -1)
	s.flags = f
	sb.account(s, +1)
}

func (sb *scoreboard) account(s *txSeg, sign int) {
	n := s.len()
	if sign < 0 {
		n = -n // uint32 wraps: adding -n subtracts
	}
	if s.flags.inPipe() {
		sb.pipe += n
	}
	if s.flags&segSACKed != 0 {
		sb.sacked += n
	}
	if s.flags&(segSACKed|segLost|segRetrans) == segLost {
		sb.lost += n
	}
}

// sent records a transmission of [start, end) at now. New data is
// appended; a retransmission marks the segments it covers, splitting any
// whose edges differ from this one's.
func (sb *scoreboard) sent(start, end seqnum.Value, fin bool, now time.Duration, sndMax seqnum.Value) {
	if !start.LessThan(end) {
		return
	}
	if !start.LessThan(sndMax) {
		f := segFlags(0)
		if fin {
			f = segFIN
		}
		if sb.head > 0 && sb.head == len(sb.segs) {
			sb.segs, sb.head = sb.segs[:0], 0
		}
		sb.segs = append(sb.segs, txSeg{start: start, end: end, sentAt: now, flags: f})
		sb.account(&sb.segs[len(sb.segs)-1], +1)
		return
	}
	i := sb.split(start)
	j := sb.split(end)
	for k := i; k < j; k++ {
		f := sb.segs[k].flags | segEverRetrans
		if f&segLost != 0 {
			f |= segRetrans
		}
		sb.segs[k].sentAt = now
		sb.setFlags(k, f)
	}
}

// find returns the index of the live segment holding seq, or len(segs).
func (sb *scoreboard) find(seq seqnum.Value) int {
	lo, hi := sb.head, len(sb.segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sb.segs[m].end.LessThanEq(seq) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// split makes seq a segment boundary and returns the index of the segment
// that starts there (len(segs) if seq lies past the last one).
func (sb *scoreboard) split(seq seqnum.Value) int {
	i := sb.find(seq)
	if i == len(sb.segs) || !sb.segs[i].start.LessThan(seq) {
		return i
	}
	// segs[i] holds seq strictly inside: cut it in two. The totals stay
	// right, as both halves keep the flags.
	s := sb.segs[i]
	left, right := s, s
	left.end, left.flags = seq, s.flags&^segFIN
	right.start = seq
	sb.segs = append(sb.segs, txSeg{})
	copy(sb.segs[i+2:], sb.segs[i+1:])
	sb.segs[i], sb.segs[i+1] = left, right
	return i + 1
}

// ackTo drops the segments below ack, calling fn for each one, with
// whether it had been SACKed, before it goes.
func (sb *scoreboard) ackTo(ack seqnum.Value, fn func(s *txSeg)) {
	if sb.empty() {
		return
	}
	end := sb.split(ack)
	for k := sb.head; k < end; k++ {
		s := &sb.segs[k]
		fn(s)
		sb.account(s, -1)
	}
	sb.head = end
	if sb.head == len(sb.segs) {
		sb.segs, sb.head = sb.segs[:0], 0
	} else if sb.head > 64 && sb.head > len(sb.segs)/2 {
		n := copy(sb.segs, sb.segs[sb.head:])
		sb.segs, sb.head = sb.segs[:n], 0
	}
	if sb.sacked == 0 {
		sb.highSACK = ack
	}
}

// markSACKed marks [start, end) SACKed (RFC 6675 §4 Update()), calling fn
// for each segment newly SACKed. Only whole segments are marked: a block
// that covers part of one splits it first, so the scoreboard is exact.
func (sb *scoreboard) markSACKed(start, end seqnum.Value, fn func(s *txSeg)) {
	i := sb.split(start)
	j := sb.split(end)
	for k := i; k < j; k++ {
		s := &sb.segs[k]
		if s.flags&segSACKed != 0 {
			continue
		}
		fn(s)
		sb.setFlags(k, s.flags|segSACKed)
		if sb.sacked == s.len() || s.end.GreaterThan(sb.highSACK) {
			sb.highSACK = s.end
		}
	}
}

// everRetransmitted reports whether any segment in [start, end) was
// retransmitted.
func (sb *scoreboard) everRetransmitted(start, end seqnum.Value) bool {
	for k := sb.find(start); k < len(sb.segs) && sb.segs[k].start.LessThan(end); k++ {
		if sb.segs[k].flags&segEverRetrans != 0 {
			return true
		}
	}
	return false
}

// markLost marks segment i lost; a retransmission then puts it back in
// the pipe (RFC 6675 §4 SetPipe).
func (sb *scoreboard) markLost(i int) {
	f := sb.segs[i].flags
	if f&segSACKed != 0 {
		return
	}
	sb.setFlags(i, (f|segLost)&^segRetrans)
}

// markAllLost deems every un-SACKed segment lost, as after a timeout
// (RFC 6675 §5.1); with forgetSACK it also forgets what was SACKed, in
// case the peer reneged (RFC 2018 §8); with keepRetrans, what was resent
// since stays in the pipe.
func (sb *scoreboard) markAllLost(forgetSACK, keepRetrans bool) {
	for k := sb.head; k < len(sb.segs); k++ {
		f := sb.segs[k].flags
		if forgetSACK {
			f &^= segSACKed
		}
		if keepRetrans && f&segRetrans != 0 {
			continue // already resent since the timeout
		}
		if f&segSACKed == 0 {
			f = (f | segLost) &^ segRetrans
		}
		sb.setFlags(k, f)
	}
}

// nextLost is RFC 6675 §4 NextSeg() rule 1: the first segment deemed
// lost, not SACKed and not yet retransmitted since. It returns -1 if none.
func (sb *scoreboard) nextLost() int {
	if sb.lost == 0 {
		return -1
	}
	for k := sb.head; k < len(sb.segs); k++ {
		if sb.segs[k].flags&(segSACKed|segLost|segRetrans) == segLost {
			return k
		}
	}
	return -1
}

// markIsLost applies RFC 6675 §4 IsLost() to every segment below the
// highest SACKed one: a segment is lost once dupThresh discontiguous
// SACKed segments, or more than (dupThresh-1)*mss SACKed octets, lie above
// it. The walk goes down from the top, counting what is SACKed above, so
// it is one pass. It reports whether it marked anything.
func (sb *scoreboard) markIsLost(dupThresh int, mss uint32) bool {
	if sb.sacked == 0 {
		return false
	}
	marked := false
	above, aboveBytes := 0, uint32(0)
	limit := uint32(dupThresh-1) * mss
	for k := sb.find(sb.highSACK) - 1; k >= sb.head; k-- {
		s := &sb.segs[k]
		if s.flags&segSACKed != 0 {
			above++
			aboveBytes += s.len()
			continue
		}
		if s.flags&segLost != 0 {
			continue
		}
		if above >= dupThresh || aboveBytes > limit {
			sb.markLost(k)
			marked = true
		}
	}
	return marked
}
