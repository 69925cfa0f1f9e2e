package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

func (n *demoNet) writeHeader(w io.Writer) {
	cfg := n.cfg
	what := "an echo conversation"
	switch {
	case cfg.Simultaneous:
		what = "a simultaneous open"
	case cfg.FastOpen:
		what = "TCP Fast Open, two echoes"
	}
	fmt.Fprintf(w, "threeway demo: %s between two stacks over a link with %v delay each way.\n", what, linkDelay)
	fmt.Fprintf(w, "Time is simulated (ms since start); MSL is %v, so TIME-WAIT lasts %v. Seed %d", demoMSL, 2*demoMSL, cfg.Seed)
	if cfg.Loss > 0 {
		fmt.Fprintf(w, ";\nthe link loses %g%% of packets each way at random, and always the first SYN.\n", 100*cfg.Loss)
	} else {
		fmt.Fprintf(w, ".\n")
	}
	if cfg.Pcap != "" {
		fmt.Fprintf(w, "The client's packets are written to %s.\n", cfg.Pcap)
	}
	fmt.Fprintln(w)
}

// writeSummary prints both stacks' counters, the link's, and the
// negotiated options.
func (n *demoNet) writeSummary(w io.Writer, evs []ladder.Event) {
	var end time.Duration
	if len(evs) > 0 {
		end = evs[len(evs)-1].At
	}
	fmt.Fprintf(w, "\nDone after %s ms of simulated time.\n\n", ladder.FormatMS(end))

	var st [2]threeway.Stats
	for s, stack := range n.stacks {
		st[s] = stack.Stats()
	}
	tw := &table{}
	tw.row("", "client", "server")
	u := func(name string, f func(*threeway.Stats) uint64) {
		tw.row(name, strconv.FormatUint(f(&st[0]), 10), strconv.FormatUint(f(&st[1]), 10))
	}
	u("active opens", func(s *threeway.Stats) uint64 { return s.ActiveOpens })
	u("passive opens", func(s *threeway.Stats) uint64 { return s.PassiveOpens })
	u("segments sent", func(s *threeway.Stats) uint64 { return s.OutSegs })
	u("segments received", func(s *threeway.Stats) uint64 { return s.InSegs })
	u("retransmitted", func(s *threeway.Stats) uint64 { return s.RetransSegs })
	u("  SYN retransmits", func(s *threeway.Stats) uint64 { return s.SynRetrans })
	u("  SYN-ACK retransmits", func(s *threeway.Stats) uint64 { return s.SynAckRetrans })
	u("RSTs sent", func(s *threeway.Stats) uint64 { return s.OutRsts })
	u("failed attempts", func(s *threeway.Stats) uint64 { return s.AttemptFails })
	u("resets", func(s *threeway.Stats) uint64 { return s.EstabResets })
	u("timeouts", func(s *threeway.Stats) uint64 { return s.Timeouts })
	tw.row("established now", strconv.FormatInt(st[0].CurrEstab, 10), strconv.FormatInt(st[1].CurrEstab, 10))
	drops := [2]map[string]uint64{st[0].DropCounts(), st[1].DropCounts()}
	seen := map[string]bool{}
	var reasons []string
	for _, m := range drops {
		for r := range m {
			if !seen[r] {
				seen[r] = true
				reasons = append(reasons, r)
			}
		}
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		tw.row("dropped: "+r, strconv.FormatUint(drops[0][r], 10), strconv.FormatUint(drops[1][r], 10))
	}
	ls := [2]link.PipeStats{n.a.Stats(), n.b.Stats()}
	tw.row("packets onto the link", strconv.FormatUint(ls[0].Sent, 10), strconv.FormatUint(ls[1].Sent, 10))
	tw.row("  lost on the way", strconv.FormatUint(ls[0].Lost+ls[0].Filtered, 10),
		strconv.FormatUint(ls[1].Lost+ls[1].Filtered, 10))

	tw.row("", "", "")
	neg := func(name string, f func(*tcp.Negotiated) string) {
		var v [2]string
		n.negMu.Lock()
		defer n.negMu.Unlock()
		for s, ng := range n.neg {
			v[s] = "-"
			if ng != nil {
				v[s] = f(ng)
			}
		}
		tw.row(name, v[0], v[1])
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	tw.row("negotiated", "client", "server")
	neg("MSS (send / advertised)", func(g *tcp.Negotiated) string {
		return fmt.Sprintf("%d / %d", g.SendMSS, g.AdvertisedMSS)
	})
	neg("window scaling", func(g *tcp.Negotiated) string {
		if !g.WindowScale {
			return "no"
		}
		return fmt.Sprintf("send <<%d, recv <<%d", g.SendShift, g.RecvShift)
	})
	neg("SACK", func(g *tcp.Negotiated) string { return yes(g.SACK) })
	neg("timestamps", func(g *tcp.Negotiated) string { return yes(g.Timestamps) })
	if n.cfg.FastOpen {
		neg("data in the SYN (Fast Open)", func(g *tcp.Negotiated) string { return yes(g.SynData) })
	}
	tw.write(w)
}

// table lays out rows of three columns.
type table struct{ rows [][3]string }

func (t *table) row(a, b, c string) { t.rows = append(t.rows, [3]string{a, b, c}) }

func (t *table) write(w io.Writer) {
	var width [3]int
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range t.rows {
		line := fmt.Sprintf("  %-*s  %*s  %*s", width[0], r[0], width[1], r[1], width[2], r[2])
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
