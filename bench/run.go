package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"
)

// settings size every measurement.
type settings struct {
	MTUs        []int // bulk throughput is measured at each
	MTU         int   // every other measurement
	Buffer      int   // send and receive buffer of every connection
	BulkBytes   int64
	BulkTimeout time.Duration
	Rounds      int // each measurement per stack, alternating which goes first
	ConnWindow  time.Duration
	ConnMax     int // connections per connection-rate run
	Parallel    int
	MemConns    int
	Settle      time.Duration
	Handshakes  int
	LatWindow   time.Duration
	LatMax      int
	// The lossy family (lossy.go): each transfer's window, the seeds
	// (the median is reported), the buffers and where time-sequence
	// traces go ("" for none).
	LossyWindow time.Duration
	LossySeeds  int
	LossyBuffer int
	LossyTrace  string
	LossyPlot   string // directory for one time-sequence SVG per lossy run
}

func defaultSettings(quick bool) settings {
	s := settings{
		MTUs:        []int{1500, 9000, 65535},
		MTU:         1500,
		Buffer:      1 << 20,
		BulkBytes:   512 << 20,
		BulkTimeout: 10 * time.Second,
		Rounds:      3,
		ConnWindow:  2 * time.Second,
		ConnMax:     20000,
		Parallel:    64,
		MemConns:    10000,
		Settle:      500 * time.Millisecond,
		Handshakes:  10000,
		LatWindow:   2 * time.Second,
		LatMax:      200000,
		LossyWindow: 5 * time.Second,
		LossySeeds:  3,
		LossyBuffer: 4 << 20,
	}
	if quick {
		s.BulkBytes = 64 << 20
		s.BulkTimeout = 3 * time.Second
		s.Rounds = 2
		s.ConnWindow = 500 * time.Millisecond
		s.ConnMax = 5000
		s.MemConns = 2000
		s.Settle = 200 * time.Millisecond
		s.Handshakes = 2000
		s.LatWindow = 500 * time.Millisecond
		s.LatMax = 50000
		s.LossyWindow = 2 * time.Second
		s.LossySeeds = 1
	}
	return s
}

// row is one metric for every stack. Unmeasured values are NaN.
type row struct {
	Metric       string
	Unit         string
	Val          [numKinds]float64
	HigherBetter bool
}

// ratio is > 1 when threeway is better: threeway/gvisor for rates,
// gvisor/threeway for costs. Both zero is a tie (1).
func (r row) ratio() float64 {
	tw, gv := r.Val[threewayKind], r.Val[gvisorKind]
	if math.IsNaN(tw) || math.IsNaN(gv) {
		return math.NaN()
	}
	num, den := tw, gv
	if !r.HigherBetter {
		num, den = gv, tw
	}
	if num == 0 && den == 0 {
		return 1
	}
	if den == 0 {
		return math.Inf(1)
	}
	return num / den
}

func newRow(metric, unit string, higherBetter bool) *row {
	r := &row{Metric: metric, Unit: unit, HigherBetter: higherBetter}
	for i := range r.Val {
		r.Val[i] = math.NaN()
	}
	return r
}

// keepBest folds one round's value into the row: the best round counts,
// since on a shared machine noise only ever makes a round worse.
func (r *row) keepBest(k kind, v float64) {
	old := r.Val[k]
	switch {
	case math.IsNaN(old):
		r.Val[k] = v
	case r.HigherBetter:
		r.Val[k] = max(old, v)
	default:
		r.Val[k] = min(old, v)
	}
}

// runner measures the selected stacks and collects rows.
type runner struct {
	s        settings
	kinds    []kind
	metrics  map[string]bool // nil: all
	progress io.Writer
	rows     []*row
}

var allMetrics = []string{"memory", "bulk", "connrate", "handshake", "latency", "lossy"}

func (r *runner) logf(format string, args ...any) {
	if r.progress != nil {
		fmt.Fprintf(r.progress, format+"\n", args...)
	}
}

// alternate calls f rounds times for each stack, reversing the order of
// the stacks every other round so neither always runs first (or warm).
func (r *runner) alternate(rounds int, f func(k kind) error) error {
	for i := range max(rounds, 1) {
		order := slices.Clone(r.kinds)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, k := range order {
			runtime.GC()
			if err := f(k); err != nil {
				return fmt.Errorf("%v: %w", k, err)
			}
		}
	}
	return nil
}

func (r *runner) want(metric string) bool { return r.metrics == nil || r.metrics[metric] }

func (r *runner) run() error {
	s := r.s
	pc := pairConfig{MTU: s.MTU, Buffer: s.Buffer}
	if r.want("memory") {
		mem := newRow(fmt.Sprintf("idle conn heap, %d conns", s.MemConns), "bytes/end", false)
		gor := newRow(fmt.Sprintf("idle conn goroutines, %d conns", s.MemConns), "goroutines/end", false)
		// Memory goes first, before any other measurement has left
		// anything behind, and once: it is deterministic enough.
		err := r.alternate(1, func(k kind) error {
			v, err := measureMemory(k, pc, s.MemConns, s.Settle)
			r.logf("  memory %v: %.0f bytes/end, %.3f goroutines/end", k, v.BytesPerEnd, v.GoroutinesPerEnd)
			mem.keepBest(k, v.BytesPerEnd)
			gor.keepBest(k, v.GoroutinesPerEnd)
			return err
		})
		if err != nil {
			return fmt.Errorf("memory: %w", err)
		}
		r.rows = append(r.rows, mem, gor)
	}
	if r.want("bulk") {
		for _, mtu := range s.MTUs {
			row := newRow(fmt.Sprintf("bulk throughput, MTU %d", mtu), "Gbit/s", true)
			bpc := pairConfig{MTU: mtu, Buffer: s.Buffer}
			err := r.alternate(s.Rounds, func(k kind) error {
				v, st, err := measureBulk(k, bpc, s.BulkBytes, s.BulkTimeout)
				r.logf("  bulk MTU %d %v: %.2f Gbit/s (%d packets out, %d back, %d dropped)", mtu, k, v, st.Data, st.Acks, st.Drops)
				row.keepBest(k, v)
				return err
			})
			if err != nil {
				return fmt.Errorf("bulk MTU %d: %w", mtu, err)
			}
			r.rows = append(r.rows, row)
		}
	}
	if r.want("connrate") {
		for _, clients := range []int{1, s.Parallel} {
			name := "connect+accept+close, sequential"
			if clients > 1 {
				name = fmt.Sprintf("connect+accept+close, %d clients", clients)
			}
			row := newRow(name, "conns/s", true)
			err := r.alternate(s.Rounds, func(k kind) error {
				v, drops, err := measureConnRate(k, pc, clients, s.ConnWindow, s.ConnMax)
				r.logf("  conn rate x%d %v: %.0f conns/s (%d packets dropped)", clients, k, v, drops)
				row.keepBest(k, v)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			r.rows = append(r.rows, row)
		}
	}
	if r.want("handshake") {
		cpu := newRow("handshake CPU (both ends)", "ns", false)
		wall := newRow("handshake wall time", "ns", false)
		allocs := newRow("handshake allocations (both ends)", "allocs", false)
		bytes := newRow("handshake allocated (both ends)", "bytes", false)
		err := r.alternate(s.Rounds, func(k kind) error {
			v, err := measureHandshake(k, pc, s.Handshakes)
			r.logf("  handshake %v: %.0f ns CPU, %.0f ns wall, %.1f allocs, %.0f B", k, v.CPUNs, v.WallNs, v.Allocs, v.Bytes)
			cpu.keepBest(k, v.CPUNs)
			wall.keepBest(k, v.WallNs)
			allocs.keepBest(k, v.Allocs)
			bytes.keepBest(k, v.Bytes)
			return err
		})
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		r.rows = append(r.rows, cpu, wall, allocs, bytes)
	}
	if r.want("latency") {
		p50 := newRow("64 B request/response RTT p50", "µs", false)
		p99 := newRow("64 B request/response RTT p99", "µs", false)
		var all [numKinds][]time.Duration
		err := r.alternate(s.Rounds, func(k kind) error {
			v, err := measureLatency(k, pc, s.LatWindow, s.LatMax)
			r.logf("  latency %v: %d round trips, p50 %v", k, len(v), percentile(v, 0.5))
			all[k] = append(all[k], v...)
			return err
		})
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		// Latency pools the rounds' samples rather than picking a round.
		for _, k := range r.kinds {
			p50.Val[k] = float64(percentile(all[k], 0.50)) / 1e3
			p99.Val[k] = float64(percentile(all[k], 0.99)) / 1e3
		}
		r.rows = append(r.rows, p50, p99)
	}
	if r.want("lossy") {
		if err := r.runLossy(); err != nil {
			return err
		}
	}
	return nil
}
