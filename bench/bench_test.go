package main

import (
	"bytes"
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tinySettings make every metric run in well under a second per stack.
func tinySettings() settings {
	return settings{
		MTUs:        []int{1500, 9000, 65535},
		MTU:         1500,
		Buffer:      1 << 20,
		BulkBytes:   4 << 20,
		BulkTimeout: 10 * time.Second,
		Rounds:      1,
		ConnWindow:  100 * time.Millisecond,
		ConnMax:     300,
		Parallel:    64,
		MemConns:    100,
		Settle:      20 * time.Millisecond,
		Handshakes:  100,
		LatWindow:   50 * time.Millisecond,
		LatMax:      500,
		LossyWindow: 200 * time.Millisecond,
		LossySeeds:  1,
		LossyBuffer: 1 << 20,
	}
}

// TestSmoke runs a tiny version of every metric on both stacks and checks
// only that each produced a number: positive, or for goroutine counts
// (zero is a fine answer) not negative.
func TestSmoke(t *testing.T) {
	r := &runner{s: tinySettings(), kinds: []kind{threewayKind, gvisorKind}}
	if testing.Verbose() {
		r.progress = testWriter{t}
	}
	if err := r.run(); err != nil {
		t.Fatal(err)
	}
	want := 2 + 3 + 2 + 4 + 2 + 3*len(lossyPaths)
	if len(r.rows) != want {
		t.Fatalf("%d rows, want %d", len(r.rows), want)
	}
	for _, row := range r.rows {
		for _, k := range r.kinds {
			v := row.Val[k]
			ok := v > 0
			if strings.Contains(row.Metric, "goroutines") || strings.HasPrefix(row.Metric, "lossy") && !strings.HasSuffix(row.Metric, "goodput") {
				ok = v >= 0
			}
			if !ok || math.IsInf(v, 0) {
				t.Errorf("%s, %v: %v %s", row.Metric, k, v, row.Unit)
			}
		}
	}

	var table, js bytes.Buffer
	writeTable(&table, r.rows)
	if got := strings.Count(table.String(), "\n"); got != len(r.rows)+2 {
		t.Errorf("table has %d lines, want %d:\n%s", got, len(r.rows)+2, table.String())
	}
	writeJSON(&js, r.rows)
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != len(r.rows) {
		t.Fatalf("%d JSON lines, want %d", len(lines), len(r.rows))
	}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, key := range []string{"metric", "unit", "threeway", "gvisor", "ratio"} {
			if _, ok := m[key]; !ok {
				t.Errorf("%q lacks %q", line, key)
			}
		}
	}
	t.Logf("\n%s", table.String())
}

func TestRatio(t *testing.T) {
	rate := row{HigherBetter: true, Val: [numKinds]float64{4, 2}}
	cost := row{HigherBetter: false, Val: [numKinds]float64{2, 4}}
	tie := row{HigherBetter: false, Val: [numKinds]float64{0, 0}}
	free := row{HigherBetter: false, Val: [numKinds]float64{0, 3}}
	for _, c := range []struct {
		r    row
		want float64
	}{{rate, 2}, {cost, 2}, {tie, 1}, {free, math.Inf(1)}} {
		if got := c.r.ratio(); got != c.want {
			t.Errorf("%+v: ratio %v, want %v", c.r, got, c.want)
		}
	}
	if got := (row{Val: [numKinds]float64{1, math.NaN()}}).ratio(); !math.IsNaN(got) {
		t.Errorf("unmeasured ratio = %v, want NaN", got)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestPairsCleanUp checks that closing a pair stops every goroutine it
// started, so one measurement cannot slow down the next.
func TestPairsCleanUp(t *testing.T) {
	for _, k := range []kind{threewayKind, gvisorKind} {
		before := runtime.NumGoroutine()
		p, err := newPair(k, pairConfig{MTU: 1500, Buffer: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		c, s, err := connectPair(p)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		s.Close()
		p.Close()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%v: %d goroutines after close, %d before", k, n, before)
		}
	}
}
