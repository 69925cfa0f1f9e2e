package ladder

import (
	"fmt"
	"slices"

	"github.com/threeway-tcp/threeway/wire"
)

// matchSends reports, for each send event, whether the other side received
// it. A receive matches the latest not yet matched send of an identical
// segment (same half-connection, numbers, flags, window, length and
// timestamps), so that when a segment and its retransmission look alike,
// the earlier one is the one marked lost.
func matchSends(evs []Event) []bool {
	type key struct {
		from     half
		seq, ack uint32
		flags    wire.Flags
		win      uint16
		n        int
		tsv, tse uint32
	}
	mk := func(from half, s *Seg) key {
		return key{from, s.Seq, s.Ack, s.Flags, s.Window, s.Len, s.Opts.TSVal, s.Opts.TSEcr}
	}
	received := make([]bool, len(evs))
	pending := map[key][]int{}
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case Send:
			k := mk(e.half(), e.Seg)
			pending[k] = append(pending[k], i)
		case Recv:
			k := mk(e.half().peer(), e.Seg)
			if l := pending[k]; len(l) > 0 {
				received[l[len(l)-1]] = true
				pending[k] = l[:len(l)-1]
			}
		}
	}
	return received
}

// marks is what the diagram notes beside a segment's arrow.
type marks struct {
	retrans  bool // resends sequence space already sent
	outOrder bool // fills a hole below data already seen, for the first time
	afterGap bool // starts above everything seen: what came before was not seen
	dupAck   int  // the nth duplicate ACK in a row (RFC 5681 §2), 0 if none
	sack     int  // SACK blocks carried (RFC 2018)
}

func (m marks) texts() []string {
	var t []string
	switch {
	case m.retrans:
		t = append(t, "retransmission")
	case m.outOrder:
		t = append(t, "out of order")
	case m.afterGap:
		t = append(t, "previous segment not seen")
	}
	if m.dupAck > 0 {
		t = append(t, fmt.Sprintf("dup ACK #%d", m.dupAck))
	}
	if m.sack > 0 {
		t = append(t, fmt.Sprintf("SACK (%d)", m.sack))
	}
	return t
}

// halfSeen is what the analyzer has seen of one half-connection's
// sequence space, unwrapped to 64 bits from the first sequence number.
type halfSeen struct {
	started  bool
	base     uint32
	hi       int64    // end of the highest segment
	have     []span64 // sequence space seen, merged, sorted
	lastSYN  wire.Flags
	ackValid bool
	lastAck  uint32
	lastWin  uint16
	dups     int
}

type span64 struct{ lo, hi int64 }

// rel unwraps v to 64 bits near the highest sequence number seen.
func (h *halfSeen) rel(v uint32) int64 {
	return h.hi + int64(int32(v-(h.base+uint32(h.hi))))
}

// covered reports how much of [lo, hi) has been seen: none, part or all.
func (h *halfSeen) covered(lo, hi int64) (some, all bool) {
	var n int64
	for _, s := range h.have {
		a, b := max(lo, s.lo), min(hi, s.hi)
		if a < b {
			n += b - a
		}
	}
	return n > 0, n == hi-lo
}

func (h *halfSeen) add(lo, hi int64) {
	h.have = append(h.have, span64{lo, hi})
	slices.SortFunc(h.have, func(a, b span64) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := h.have[:1]
	for _, s := range h.have[1:] {
		if last := &out[len(out)-1]; s.lo <= last.hi {
			last.hi = max(last.hi, s.hi)
		} else {
			out = append(out, s)
		}
	}
	h.have = out
}

// analyzer marks segments as they come, from the sender's view (a stack's
// own sends) or an observer's (a capture): it needs only what came before.
type analyzer struct {
	full  bool // also mark out-of-order segments, gaps, dup ACKs and SACKs
	halfs map[half]*halfSeen
}

func newAnalyzer(full bool) *analyzer {
	return &analyzer{full: full, halfs: map[half]*halfSeen{}}
}

func (a *analyzer) get(k half) *halfSeen {
	h := a.halfs[k]
	if h == nil {
		h = &halfSeen{}
		a.halfs[k] = h
	}
	return h
}

// mark notes the send event e and returns its marks.
func (a *analyzer) mark(e *Event) marks {
	var m marks
	s := e.Seg
	k := e.half()
	h := a.get(k)
	n := int64(s.SeqLen())
	fl := s.Flags & (wire.FlagSYN | wire.FlagACK)
	// The SYN-ACK of a simultaneous open repeats the host's SYN but is
	// no retransmission.
	synAckAfterSyn := fl == wire.FlagSYN|wire.FlagACK && h.lastSYN == wire.FlagSYN
	if fl&wire.FlagSYN != 0 {
		h.lastSYN = fl
	}
	if !h.started {
		h.started, h.base = true, s.Seq
	}
	lo := h.rel(s.Seq)
	hi := lo + n
	if n > 0 {
		switch {
		case lo < h.hi && !synAckAfterSyn:
			// A sender only goes back to resend; an observer may also
			// see a segment overtaken on the way fill a hole.
			if some, _ := h.covered(lo, min(hi, h.hi)); some || !a.full {
				m.retrans = true
			} else {
				m.outOrder = true
			}
		case lo > h.hi && a.full && len(h.have) > 0:
			m.afterGap = true
		}
		h.add(lo, hi)
		h.hi = max(h.hi, hi)
	}
	if a.full && s.Flags&wire.FlagACK != 0 {
		m.dupAck = h.dupAck(s, a.get(k.peer()))
		m.sack = s.Opts.NumSACK
	}
	return m
}

// dupAck counts duplicate ACKs in the sense of RFC 5681 §2: no data, no
// SYN or FIN, the same acknowledgment number and window as the last ACK,
// while the peer has data outstanding.
func (h *halfSeen) dupAck(s *Seg, peer *halfSeen) int {
	pure := s.Len == 0 && s.Flags&(wire.FlagSYN|wire.FlagFIN|wire.FlagRST) == 0
	outstanding := peer.started && peer.rel(s.Ack) < peer.hi
	if pure && h.ackValid && s.Ack == h.lastAck && s.Window == h.lastWin && outstanding {
		h.dups++
	} else {
		h.dups = 0
	}
	h.ackValid, h.lastAck, h.lastWin = true, s.Ack, s.Window
	return h.dups
}
