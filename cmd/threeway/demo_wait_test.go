package main

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/tcp"
)

func stateAt(at time.Duration, s ladder.Side, from, to tcp.State) ladder.Event {
	t := tcp.Tuple{
		LocalAddr: netip.MustParseAddr("192.0.2.1"), LocalPort: 40000,
		RemoteAddr: netip.MustParseAddr("192.0.2.2"), RemotePort: 7,
	}
	if s == ladder.Server {
		t = t.Reverse()
	}
	return ladder.Event{At: at, Side: s, Kind: ladder.State, Tuple: t, From: from, To: to}
}

func TestAllClosed(t *testing.T) {
	evs := []ladder.Event{
		stateAt(0, ladder.Client, tcp.Closed, tcp.SynSent),
		stateAt(10, ladder.Server, tcp.Listen, tcp.SynReceived),
	}
	if allClosed(evs) {
		t.Error("open connections reported closed")
	}
	evs = append(evs, stateAt(20, ladder.Client, tcp.SynSent, tcp.Closed))
	if allClosed(evs) {
		t.Error("server's connection still open")
	}
	evs = append(evs, stateAt(30, ladder.Server, tcp.SynReceived, tcp.Closed))
	if !allClosed(evs) {
		t.Error("all closed not seen")
	}
	if allClosed(nil) {
		t.Error("nothing opened counts as closed")
	}
}
