package main

import (
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Conditions the demo waits for (see ladder.Recorder.Wait).

// sentSYN reports whether side s has sent a SYN.
func sentSYN(s ladder.Side) func([]ladder.Event) bool {
	return func(evs []ladder.Event) bool {
		for i := range evs {
			e := &evs[i]
			if e.Side == s && e.Kind == ladder.Send && e.Seg.Flags&wire.FlagSYN != 0 {
				return true
			}
		}
		return false
	}
}

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
