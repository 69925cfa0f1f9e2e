package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway/link"
)

// The lossy family: one bulk connection over a path that loses and
// reorders packets on the data direction (issue 12's table). Each stack
// sends for a fixed window on every path, for several seeds of the
// pipe's random choices; the median over seeds is reported.

// lossyPath is one row of the family.
type lossyPath struct {
	Name      string
	Bandwidth int64         // bits per second, each way
	Delay     time.Duration // each way
	Loss      float64       // data direction only
	Reorder   float64       // data direction only
	// ReorderDelay is how much later than its successor a reordered
	// packet arrives (the pipe holds it back by Delay+ReorderDelay).
	ReorderDelay time.Duration
}

var lossyPaths = []lossyPath{
	{Name: "100M 10ms, no loss", Bandwidth: 100e6, Delay: 10 * time.Millisecond},
	{Name: "100M 10ms, 0.5% loss", Bandwidth: 100e6, Delay: 10 * time.Millisecond, Loss: 0.005},
	{Name: "100M 10ms, 2% loss", Bandwidth: 100e6, Delay: 10 * time.Millisecond, Loss: 0.02},
	{Name: "100M 10ms, 2% reorder 3ms", Bandwidth: 100e6, Delay: 10 * time.Millisecond, Reorder: 0.02, ReorderDelay: 3 * time.Millisecond},
	{Name: "100M 10ms, 1% loss + 1% reorder", Bandwidth: 100e6, Delay: 10 * time.Millisecond, Loss: 0.01, Reorder: 0.01, ReorderDelay: 3 * time.Millisecond},
	{Name: "1G 1ms, 0.1% loss", Bandwidth: 1e9, Delay: time.Millisecond, Loss: 0.001},
}

// pairConfig returns the pair configuration for the path with seed.
func (lp lossyPath) pairConfig(mtu, buffer int, seed uint64) pairConfig {
	return pairConfig{
		MTU: mtu, Buffer: buffer, Seed: seed,
		AtoB: link.Impairments{
			Bandwidth: lp.Bandwidth, Delay: lp.Delay,
			Loss: lp.Loss, Reorder: lp.Reorder, ReorderDelay: lp.ReorderDelay,
		},
		BtoA: link.Impairments{Bandwidth: lp.Bandwidth, Delay: lp.Delay},
	}
}

// lossyResult is one transfer.
type lossyResult struct {
	Mbps    float64 // goodput: bytes read within the window
	Retrans uint64  // segments retransmitted, both stacks
	Gaps    int     // intervals over gapLimit with no data read
}

// gapLimit is the silence at the receiver that counts as a gap: longer
// than any RTT of the family, so it is a timeout or a stall.
const gapLimit = 100 * time.Millisecond

// measureLossy sends for window over one connection of a fresh pair and
// reports goodput, retransmissions and gaps. If trace is not nil, it
// gets one line per read: milliseconds since the start and bytes so far.
func measureLossy(k kind, pc pairConfig, window time.Duration, trace *bufio.Writer) (lossyResult, error) {
	var res lossyResult
	p, err := newPair(k, pc)
	if err != nil {
		return res, err
	}
	defer p.Close()
	c, s, err := connectPair(p)
	if err != nil {
		return res, err
	}
	defer c.Close()
	defer s.Close()
	retrans0 := p.retrans()

	const chunk = 64 << 10
	type readRes struct {
		n    int64
		gaps int
	}
	done := make(chan readRes, 1)
	start := time.Now()
	deadline := start.Add(window)
	s.SetReadDeadline(deadline)
	c.SetWriteDeadline(deadline)
	go func() {
		buf := make([]byte, chunk)
		var r readRes
		last := start
		for {
			k, err := s.Read(buf)
			if k > 0 {
				now := time.Now()
				if now.Sub(last) > gapLimit {
					r.gaps++
				}
				last = now
				r.n += int64(k)
				if trace != nil {
					fmt.Fprintf(trace, "%.3f %d\n", float64(now.Sub(start))/1e6, r.n)
				}
			}
			if err != nil {
				break
			}
		}
		// The silence between the last read and the window's end.
		if deadline.Sub(last) > gapLimit {
			r.gaps++
		}
		done <- r
	}()
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	for {
		if _, err := c.Write(buf); err != nil {
			break
		}
	}
	r := <-done
	if r.n == 0 {
		return res, fmt.Errorf("nothing received in %v", window)
	}
	res.Mbps = float64(r.n) * 8 / window.Seconds() / 1e6
	res.Retrans = p.retrans() - retrans0
	res.Gaps = r.gaps
	return res, nil
}

// runLossy measures every path for every stack and seed, alternating
// which stack goes first, and appends three rows per path.
func (r *runner) runLossy() error {
	s := r.s
	for _, lp := range lossyPaths {
		good := newRow("lossy "+lp.Name+": goodput", "Mbit/s", true)
		retr := newRow("lossy "+lp.Name+": retransmitted", "segs", false)
		gaps := newRow(fmt.Sprintf("lossy %s: gaps > %v", lp.Name, gapLimit), "gaps", false)
		var mbps, rets, gps [numKinds][]float64
		for seed := range s.LossySeeds {
			order := slices.Clone(r.kinds)
			if seed%2 == 1 {
				slices.Reverse(order)
			}
			for _, k := range order {
				pc := lp.pairConfig(s.MTU, s.LossyBuffer, uint64(seed+1))
				var tw *bufio.Writer
				var f *os.File
				if s.LossyTrace != "" {
					name := fmt.Sprintf("lossy-%s-%v-seed%d.dat", slug(lp.Name), k, seed+1)
					var err error
					if f, err = os.Create(filepath.Join(s.LossyTrace, name)); err != nil {
						return err
					}
					tw = bufio.NewWriter(f)
				}
				var lc *lossyCapture
				if s.LossyPlot != "" {
					var err error
					if lc, err = newLossyCapture(); err != nil {
						return err
					}
					pc.WrapClient = lc.wrap
				}
				v, err := measureLossy(k, pc, s.LossyWindow, tw)
				if f != nil {
					tw.Flush()
					f.Close()
				}
				if err != nil {
					return fmt.Errorf("lossy %s, %v, seed %d: %w", lp.Name, k, seed+1, err)
				}
				if lc != nil {
					name := fmt.Sprintf("lossy-%s-%v-seed%d.svg", slug(lp.Name), k, seed+1)
					if err := lc.writeSVG(filepath.Join(s.LossyPlot, name)); err != nil {
						return fmt.Errorf("lossy %s, %v, seed %d: plot: %w", lp.Name, k, seed+1, err)
					}
				}
				r.logf("  lossy %s %v seed %d: %.1f Mbit/s, %d retransmitted, %d gaps", lp.Name, k, seed+1, v.Mbps, v.Retrans, v.Gaps)
				mbps[k] = append(mbps[k], v.Mbps)
				rets[k] = append(rets[k], float64(v.Retrans))
				gps[k] = append(gps[k], float64(v.Gaps))
			}
		}
		for _, k := range r.kinds {
			good.Val[k] = median(mbps[k])
			retr.Val[k] = median(rets[k])
			gaps.Val[k] = median(gps[k])
		}
		r.rows = append(r.rows, good, retr, gaps)
	}
	return nil
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// slug makes a path name usable in a file name.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.':
			return r
		}
		return '-'
	}, s)
}
