package tcp

import (
	"bytes"
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"
)

// pathSim runs a client and a server connection over a simulated path on
// a simulated clock: each direction has a bandwidth (serialization), a
// delay, random loss and random reordering (a packet held back by an
// extra delay), with seeded randomness so a run is repeatable. The client
// sends size octets; the server reads everything.
type pathSim struct {
	t      testing.TB
	env    *Env
	l      *Listener
	client *Conn
	server *Conn
	now    time.Duration
	out    Output
	q      pktHeap
	seq    int
	rng    *rand.Rand
	fwd    simLink // client to server (the data direction)
	rev    simLink
	// drop, if set, decides the fate of each data-direction packet
	// instead of fwd.loss (n counts data-bearing packets from 0).
	drop  func(n int, s *Segment) bool
	nData int

	sent, got []byte
	lastRead  time.Duration
	maxGap    time.Duration // longest time the reader saw no new data
}

type simLink struct {
	bps       float64
	delay     time.Duration
	loss      float64
	reorder   float64
	reoDelay  time.Duration
	busyUntil time.Duration
}

type simPkt struct {
	at   time.Duration
	n    int
	toSv bool
	seg  Segment
}

type pktHeap []*simPkt

func (h pktHeap) Len() int { return len(h) }
func (h pktHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].n < h[j].n
}
func (h pktHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)   { *h = append(*h, x.(*simPkt)) }
func (h *pktHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

func newPathSim(t testing.TB, cfg Config, seed uint64, fwd, rev simLink) *pathSim {
	env := NewEnv(cfg, [16]byte{9, 9, 9})
	s := &pathSim{t: t, env: env, l: NewListener(env), fwd: fwd, rev: rev,
		rng: rand.New(rand.NewPCG(seed, 12))}
	s.client = NewActive(env, clientTuple, 0)
	return s
}

// transmit puts what the connections produced on the links.
func (s *pathSim) transmit() {
	for _, os := range s.out.Segs {
		seg := os.Seg
		seg.Payload = append([]byte(nil), seg.Payload...)
		toSv := os.Tuple == clientTuple
		lk := &s.rev
		if toSv {
			lk = &s.fwd
		}
		size := 40 + len(seg.Payload) + seg.Options.Len()
		start := max(s.now, lk.busyUntil)
		if lk.bps > 0 {
			lk.busyUntil = start + time.Duration(float64(size*8)/lk.bps*float64(time.Second))
		} else {
			lk.busyUntil = start
		}
		if toSv && len(seg.Payload) > 0 {
			n := s.nData
			s.nData++
			if s.drop != nil {
				if s.drop(n, &seg) {
					continue
				}
			} else if s.rng.Float64() < lk.loss {
				continue
			}
		} else if !toSv && s.rng.Float64() < lk.loss {
			continue
		}
		at := lk.busyUntil + lk.delay
		if s.rng.Float64() < lk.reorder {
			at += lk.reoDelay
		}
		s.seq++
		heap.Push(&s.q, &simPkt{at: at, n: s.seq, toSv: toSv, seg: seg})
	}
	s.out.Reset()
}

func (s *pathSim) poll() {
	s.client.Poll(s.now, &s.out)
	if s.server != nil {
		s.server.Poll(s.now, &s.out)
	}
	s.transmit()
}

// run transfers size octets and returns the simulated time it took.
func (s *pathSim) run(size int, limit time.Duration) time.Duration {
	s.t.Helper()
	s.sent = make([]byte, size)
	for i := range s.sent {
		s.sent[i] = byte(i*7 + i>>11)
	}
	off := 0
	buf := make([]byte, 1<<16)
	for s.now < limit {
		if off < size && s.client.State() == Established {
			w, _ := s.client.Write(s.sent[off:])
			off += w
		}
		s.poll()
		if s.server != nil {
			for {
				n, _ := s.server.Read(buf)
				if n == 0 {
					break
				}
				if gap := s.now - s.lastRead; gap > s.maxGap && len(s.got) > 0 {
					s.maxGap = gap
				}
				s.lastRead = s.now
				s.got = append(s.got, buf[:n]...)
			}
			s.server.Poll(s.now, &s.out)
			s.transmit()
		}
		if len(s.got) == size {
			if !bytes.Equal(s.got, s.sent) {
				s.t.Fatalf("received data differs from what was sent")
			}
			return s.now
		}
		next := min(s.client.Deadline(), limit)
		if s.server != nil {
			next = min(next, s.server.Deadline())
		}
		if len(s.q) > 0 {
			next = min(next, s.q[0].at)
		}
		if next > s.now {
			s.now = next
		}
		for len(s.q) > 0 && s.q[0].at <= s.now {
			p := heap.Pop(&s.q).(*simPkt)
			if p.toSv {
				if s.server == nil {
					s.server = s.l.Input(s.now, clientTuple.Reverse(), &p.seg, &s.out)
					if s.server != nil {
						s.l.Accept()
					}
				} else {
					s.server.Input(s.now, &p.seg, &s.out)
				}
			} else {
				s.client.Input(s.now, &p.seg, &s.out)
			}
		}
		s.transmit()
	}
	s.t.Fatalf("transfer incomplete after %v: %d of %d octets", limit, len(s.got), size)
	return 0
}

func simConfig() Config {
	cfg := DefaultConfig()
	cfg.SendBuffer, cfg.RecvBuffer = 1<<20, 1<<20
	return cfg
}

// A sweep of loss and reordering on a 100 Mbit/s, 10 ms path at the core,
// on the simulated clock: every byte arrives exactly, and the recovery
// machinery is exercised (RACK, PRR, D-SACK undo), not the RTO alone.
func TestPathSimLossSweep(t *testing.T) {
	cases := []struct {
		name          string
		loss, reorder float64
	}{
		{"loss 0.5%", 0.005, 0},
		{"loss 2%", 0.02, 0},
		{"reorder 2%", 0, 0.02},
		{"loss 1% reorder 1%", 0.01, 0.01},
		{"loss 20% reorder 5%", 0.2, 0.05},
	}
	for _, tc := range cases {
		for seed := uint64(1); seed <= 2; seed++ {
			fwd := simLink{bps: 100e6, delay: 10 * time.Millisecond, loss: tc.loss, reorder: tc.reorder, reoDelay: 3 * time.Millisecond}
			rev := simLink{bps: 100e6, delay: 10 * time.Millisecond}
			s := newPathSim(t, simConfig(), seed, fwd, rev)
			size := 2 << 20
			if tc.loss >= 0.1 {
				size = 256 << 10
			}
			took := s.run(size, 600*time.Second)
			r := s.client.rec
			t.Logf("%s seed %d: %v, %.1f Mbit/s, retrans %d, rto %d, fast %d, tlp %d, undo %d/%d, reordering %d, max gap %v",
				tc.name, seed, took, float64(size*8)/took.Seconds()/1e6, s.env.Stats.RetransSegs, r.rtos, r.fastRecoveries,
				s.client.tlp.probes, r.spuriousRecoveries, r.spuriousRTOs, r.reordering, s.maxGap)
		}
	}
}

// Issue 12's target, as behaviour on the simulated clock: a single lost
// segment in a bulk transfer (the first, or in the middle) is repaired by
// fast recovery without a timeout, and the reader never waits three
// round trips; the last two segments lost are found by a tail loss probe
// after 2*SRTT (RFC 8985 §7.2) and repaired within four. The very last segment alone waits for
// the probe timeout with the peer's delayed ACK allowed for, which the
// RTO caps: one timeout at most.
func TestPathSimTailAndSingleLoss(t *testing.T) {
	const size = 1 << 20
	for _, which := range []string{"first", "10th", "300th", "last two", "last"} {
		t.Run(which, func(t *testing.T) {
			fwd := simLink{bps: 100e6, delay: 10 * time.Millisecond}
			rev := simLink{bps: 100e6, delay: 10 * time.Millisecond}
			s := newPathSim(t, simConfig(), 1, fwd, rev)
			dropped := map[int]bool{}
			s.drop = func(n int, seg *Segment) bool {
				off := int(s.client.ISS().Add(1).Size(seg.Seq))
				end := off + len(seg.Payload)
				hit := false
				switch which {
				case "first":
					hit = off == 0
				case "10th":
					hit = n == 9
				case "300th":
					hit = n == 299
				case "last two":
					hit = end > size-2*int(s.client.sndMSS)
				case "last":
					hit = end == size
				}
				if !hit || dropped[off] {
					return false
				}
				dropped[off] = true
				return true
			}
			s.run(size, 60*time.Second)
			if len(dropped) == 0 {
				t.Fatal("nothing was dropped")
			}
			r := s.client.rec
			t.Logf("longest wait %v, fast %d, probes %d, rtos %d, srtt %v", s.maxGap, r.fastRecoveries, s.client.tlp.probes, r.rtos, s.client.srtt)
			if which == "last" {
				if r.rtos > 1 {
					t.Fatalf("%d timeouts for one lost segment", r.rtos)
				}
				return
			}
			// Fast recovery costs about one round trip more than the
			// loss; a tail costs the probe timeout (2*SRTT), the probe's
			// round trip and the repair's.
			limit := 3 * s.client.srtt
			if which == "last two" {
				limit = 4 * s.client.srtt
				if s.client.tlp.probes == 0 {
					t.Fatal("no tail loss probe")
				}
			}
			if r.rtos != 0 || s.maxGap >= limit {
				t.Fatalf("rto %d, longest wait %v", r.rtos, s.maxGap)
			}
		})
	}
}
