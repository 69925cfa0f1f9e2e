package main

import (
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/tcp"
)

// Conditions the demo waits for (see ladder.Recorder.Wait).

// allClosed reports whether both sides opened at least one connection and
// every connection either side opened has returned to CLOSED.
func allClosed(evs []ladder.Event) bool {
	var state [2]map[tcp.Tuple]tcp.State
	for i := range evs {
		e := &evs[i]
		if e.Kind != ladder.State {
			continue
		}
		if state[e.Side] == nil {
			state[e.Side] = make(map[tcp.Tuple]tcp.State)
		}
		state[e.Side][e.Tuple] = e.To
	}
	for _, m := range state {
		if len(m) == 0 {
			return false
		}
		for _, st := range m {
			if st != tcp.Closed {
				return false
			}
		}
	}
	return true
}
