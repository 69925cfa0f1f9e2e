package main

import (
	"testing"

	goldenfile "github.com/threeway-tcp/threeway/internal/golden"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

// The demo's output is a function of its flags: these were taken before
// the ladder moved into its own package and must not change with it.
func TestDemoGolden(t *testing.T) {
	for name, cfg := range map[string]demoConfig{
		"demo-seed1.golden":              {Seed: 1},
		"demo-seed1-loss0.3.golden":      {Seed: 1, Loss: 0.3},
		"demo-seed2-simultaneous.golden": {Seed: 2, Simultaneous: true},
		"demo-seed1-fastopen.golden":     {Seed: 1, FastOpen: true},
	} {
		t.Run(name, func(t *testing.T) {
			out, _ := demoRun(t, cfg)
			golden(t, name, []byte(out))
		})
	}
}
