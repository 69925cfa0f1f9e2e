package seqplot

import (
	"fmt"
	"time"

	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/wire"
)

// Bar is a segment: sequence space [Lo, Hi) sent at T.
type Bar struct {
	T       time.Duration
	Lo, Hi  int64
	Retrans bool
	SYN     bool
	FIN     bool
}

// Step is a value that holds from T until the next step.
type Step struct {
	T time.Duration
	V int64
}

// Block is a SACK block [Lo, Hi) reported at T.
type Block struct {
	T      time.Duration
	Lo, Hi int64
}

// Plot is the data of one direction's time-sequence plot, sequence
// numbers relative to the sender's ISN (or its first sequence number).
type Plot struct {
	Title  string
	Bars   []Bar
	Acks   []Step  // the receiver's cumulative ACK
	Window []Step  // ACK plus the advertised window, scaled
	SACKs  []Block // blocks the receiver reported
	RTOs   []time.Duration
	End    time.Duration // the last time on the plot
}

// minRTO is the shortest retransmission timeout of the stacks plotted
// (Linux's 200 ms; RFC 6298 §2.4 asks for a second).
const minRTO = 200 * time.Millisecond

// FromConn builds the plot of the data side sends on c. A retransmission
// after the connection was silent for at least minRTO is taken for a
// retransmission timeout and marked as one: an inference, since a
// capture does not show timers (fast retransmit follows the ACKs that
// ask for it at once, RFC 5681 §3.2).
func FromConn(c *ladder.Conn, side ladder.Side) *Plot {
	p := &Plot{Title: fmt.Sprintf("%v → %v", c.Client, c.Server)}
	if side == ladder.Server {
		p.Title = fmt.Sprintf("%v → %v", c.Server, c.Client)
	}
	marks := c.Marks()
	var (
		base      uint32
		haveBase  bool
		hi        int64
		sendShift = -1          // the sender's offered shift, from its SYN
		recvShift = -1          // the receiver's, from its SYN
		last      time.Duration // the previous packet either way
	)
	rel := func(v uint32) int64 { return hi + int64(int32(v-(base+uint32(hi)))) }
	for i := range c.Segs {
		s := &c.Segs[i]
		t := s.Time.Sub(c.First)
		p.End = max(p.End, t)
		silent := t - last
		last = t
		f := s.TCP.Flags()
		var o wire.Options
		s.TCP.Options(&o)
		from := c.Side(s)
		if f&wire.FlagSYN != 0 && o.HasWScale {
			if from == side {
				sendShift = int(min(o.WScale, 14))
			} else {
				recvShift = int(min(o.WScale, 14))
			}
		}
		if from == side {
			if !haveBase {
				base, haveBase = s.TCP.Seq(), true
			}
			n := int64(s.PayloadLen)
			if f&wire.FlagSYN != 0 {
				n++
			}
			if f&wire.FlagFIN != 0 {
				n++
			}
			lo := rel(s.TCP.Seq())
			if n > 0 {
				b := Bar{T: t, Lo: lo, Hi: lo + n, Retrans: marks[i].Retransmission, SYN: f&wire.FlagSYN != 0, FIN: f&wire.FlagFIN != 0}
				p.Bars = append(p.Bars, b)
				if b.Retrans && silent >= minRTO {
					p.RTOs = append(p.RTOs, t)
				}
				hi = max(hi, lo+n)
			}
			continue
		}
		// The receiver's segment: its ACK, window and SACK blocks.
		if f&wire.FlagACK == 0 || !haveBase {
			continue
		}
		ack := rel(s.TCP.Ack())
		p.Acks = append(p.Acks, Step{t, ack})
		win := int64(s.TCP.Window())
		// RFC 7323 §2.2: the window of a SYN is never scaled; scaling
		// holds only when both SYNs offered it.
		if f&wire.FlagSYN == 0 && sendShift >= 0 && recvShift >= 0 {
			win <<= recvShift
		}
		p.Window = append(p.Window, Step{t, ack + win})
		for j := 0; j < o.NumSACK; j++ {
			p.SACKs = append(p.SACKs, Block{t, rel(o.SACK[j].Start), rel(o.SACK[j].End)})
		}
	}
	return p
}
