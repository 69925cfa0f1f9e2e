package tcp

// CVE-2016-5696 ("Off-Path TCP Exploits: Global Rate Limit Considered
// Dangerous", USENIX Security 2016): an off-path attacker that knows a
// victim connection's 4-tuple, and has a connection of its own to the same
// stack, infers the victim's RCV.NXT by spending the stack's challenge-ACK
// budget. Each round it sends guesses at the victim (RSTs spoofed from the
// victim's peer), then as many in-window RSTs on its own connection as the
// budget holds, and counts the challenge ACKs it gets back: every one
// missing went to the victim, so a guess was in the victim's window. With
// a per-connection budget (ratelimit.go) its own count never moves, and
// the inference finds nothing.

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

const (
	attackRate   = 10000 // packets per second
	assumedLimit = 1000  // the challenge-ACK budget the attacker assumes (Linux's, and threeway's before)
	// A round is one second of budget plus the burst itself, and carries
	// attackRate packets per second of it.
	attackBurstGap = time.Microsecond
)

type inference struct {
	t               *testing.T
	n               *simNet
	victim          *Conn // the server's end of the victim connection
	victimT, ownT   Tuple // seen from the server
	ownSeq          seqnum.Value
	window          seqnum.Size
	rounds, packets int
	answers         int // challenge ACKs on the attacker's own connection this round
	allAnswers      int // and in all rounds
	perRound        int
}

// round sends guesses at the victim and the probes on the attacker's own
// connection, waits out the budget's second, and returns how many guesses
// the attacker concludes were in the victim's window.
func (a *inference) round(guesses []seqnum.Value) int {
	t0 := a.n.now
	a.answers = 0
	i := 0
	send := func(t Tuple, seq seqnum.Value) {
		a.n.now = t0 + time.Duration(i)*attackBurstGap
		i++
		a.n.deliverNow(a.n.b, t, &Segment{Seq: seq, Flags: flagRST})
	}
	for _, g := range guesses {
		send(a.victimT, g)
	}
	// At least the budget in probes; the rest of the round's packets
	// too, which changes nothing in the count (the budget caps it) and
	// keeps the attacker at its full rate.
	for j := 0; j < max(assumedLimit, a.perRound+assumedLimit-len(guesses)); j++ {
		send(a.ownT, a.ownSeq.Add(seqnum.Size(1+j%int(a.window-1))))
	}
	a.rounds++
	a.packets += i
	defer func() { a.allAnswers += a.answers }()
	burst := time.Duration(i) * attackBurstGap
	// Round length: the packets at attackRate.
	a.n.run(t0+max(time.Second+burst, time.Duration(i)*time.Second/attackRate), nil)
	return max(assumedLimit-a.answers, 0)
}

func (a *inference) reset() bool { return a.victim.State() != Established }

// attack runs inference after inference until the victim is reset or the
// clock reaches end. It reports whether the victim was reset.
func (a *inference) attack(end time.Duration, rng *rand.Rand) bool {
	chunk := a.perRound
	for a.n.now < end {
		// Phase 1: one guess every window-size, in chunks, until the
		// count says a chunk holds one in the window.
		off := seqnum.Value(rng.Uint32())
		var in seqnum.Value
		found := false
		total := int((uint64(1) << 32) / uint64(a.window))
		for k := 0; k < total && !found && a.n.now < end; k += chunk {
			var g []seqnum.Value
			for j := k; j < min(k+chunk, total); j++ {
				g = append(g, off.Add(seqnum.Size(j)*a.window))
			}
			if a.round(g) == 0 {
				continue
			}
			if a.reset() {
				return true
			}
			// Binary search the chunk for the guess in window.
			for len(g) > 1 && a.n.now < end {
				half := g[:len(g)/2]
				if a.round(half) > 0 {
					g = half
				} else {
					g = g[len(g)/2:]
				}
				if a.reset() {
					return true
				}
			}
			in, found = g[0], true
		}
		if !found {
			continue
		}
		// Phase 2: RCV.NXT is in (in-window, in]. A RST at x draws a
		// challenge iff x >= RCV.NXT; count the hits among evenly spread
		// points and narrow the range to the step where they begin.
		lo, hi := in.Sub(a.window-1), in
		for lo != hi && a.n.now < end {
			width := uint64(lo.Size(hi)) + 1
			k := uint64(min(width, uint64(chunk)))
			pts := make([]seqnum.Value, k)
			for j := range pts {
				pts[j] = lo.Add(seqnum.Size(uint64(j) * width / k))
			}
			h := uint64(a.round(pts))
			if a.reset() {
				return true
			}
			if h == 0 || h > k {
				break // inconsistent: start over
			}
			first := k - h // index of the lowest point at or past RCV.NXT
			if first == 0 {
				hi = pts[0]
			} else {
				lo, hi = pts[first-1].Add(1), pts[first]
			}
		}
		// Phase 3: the exact RST.
		a.n.now += time.Millisecond
		a.n.deliverNow(a.n.b, a.victimT, &Segment{Seq: lo, Flags: flagRST})
		a.packets++
		if a.reset() {
			return true
		}
	}
	return false
}

func TestCVE2016_5696ChallengeAckSideChannel(t *testing.T) {
	// Thirty minutes of simulated time is 18 million packets: about ten
	// seconds of real time, several times that under the race detector,
	// which gets four minutes (twice the rounds the attack needed against
	// the per-stack limit threeway had before).
	dur := 30 * time.Minute
	if raceEnabled || testing.Short() {
		dur = 4 * time.Minute
	}
	for _, fam := range []struct {
		name                    string
		client, attacker, serve netip.Addr
	}{
		{"IPv4", localAddr, netip.MustParseAddr("198.51.100.66"), remoteAddr},
		{"IPv6", localAddr6, netip.MustParseAddr("2001:db8::66"), remoteAddr6},
	} {
		t.Run(fam.name, func(t *testing.T) {
			cfg := DefaultConfig()
			n := &simNet{a: newSimHost(cfg, 1, 0), b: newSimHost(cfg, 2, 80)}
			n.ab = simPath{rate: 1e9, delay: time.Millisecond}
			n.ba = n.ab
			vt := Tuple{LocalAddr: fam.client, RemoteAddr: fam.serve, LocalPort: 40000, RemotePort: 80}
			at := Tuple{LocalAddr: fam.attacker, RemoteAddr: fam.serve, LocalPort: 50000, RemotePort: 80}
			_, victim := n.connect(vt)
			own, _ := n.connect(at)
			if victim == nil || own.State() != Established {
				t.Fatal("connections not established")
			}
			a := &inference{t: t, n: n, victim: victim, victimT: vt.Reverse(), ownT: at.Reverse(),
				ownSeq: own.sndNxt, window: seqnum.Size(own.sndWnd), perRound: attackRate - assumedLimit + attackRate/100}
			n.sent = func(from *simHost, tu Tuple, seg *Segment) {
				if from == n.b && tu == a.ownT && seg.Flags == flagACK {
					a.answers++
				}
			}
			start := n.now
			rng := rand.New(rand.NewPCG(5696, 2016))
			if a.attack(start+dur, rng) {
				t.Fatalf("victim reset after %d rounds, %d packets, %v of simulated time", a.rounds, a.packets, n.now-start)
			}
			rate := float64(a.packets) / (n.now - start).Seconds()
			t.Logf("%s: no reset in %v: %d rounds, %d packets (%.0f/s); %d challenge ACKs on the attacker's connection, %d in all",
				fam.name, n.now-start, a.rounds, a.packets, rate, a.allAnswers, n.b.env.Stats.ChallengeAcks)
			if a.allAnswers < a.rounds {
				// The probes must reach the attacker's connection and be
				// answered, or the test proves nothing.
				t.Fatalf("%d answers to the attacker's probes in %d rounds", a.allAnswers, a.rounds)
			}
			if rate < 0.95*attackRate {
				t.Fatalf("attacker sent %.0f packets/s, want %d", rate, attackRate)
			}
		})
	}
}
