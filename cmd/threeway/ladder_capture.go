package main

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/ladder"
)

// loaded is a capture read and split into connections.
type loaded struct {
	path    string
	conns   []*ladder.Conn
	skipped map[string]int // packets without a TCP segment to show, by reason
	readErr error          // where reading stopped early, if it did
}

// loadCapture reads the capture at path. A capture that is cut short
// still yields the connections before the cut, with readErr saying where.
// The segments are views into the mapped file, which stays mapped until
// the command exits.
func loadCapture(path string) (*loaded, error) {
	f, err := capture.OpenFile(path)
	if err != nil {
		return nil, err
	}
	r, err := capture.NewReader(f.Data)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l := &loaded{path: path, skipped: map[string]int{}}
	var segs []capture.Segment
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.readErr = err
			break
		}
		s, err := capture.Decode(p)
		if err != nil {
			l.skipped[err.Error()]++
			continue
		}
		segs = append(segs, s)
	}
	if l.readErr != nil && len(segs) == 0 && len(l.skipped) == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, l.readErr)
	}
	l.conns = ladder.Conns(segs)
	return l, nil
}

// warnings writes what was skipped and where reading stopped.
func (l *loaded) warnings(w io.Writer) {
	var reasons []string
	for r := range l.skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "threeway: %s: skipped %d packets: %s\n", l.path, l.skipped[r], r)
	}
	if l.readErr != nil {
		fmt.Fprintf(w, "threeway: %s: %v; the packets before it are shown\n", l.path, l.readErr)
	}
}

// pick finds the connection spec names: an index from the listing, or
// two endpoints ("192.0.2.1:40000,192.0.2.2:80", in either order; "-" or
// "->" also separate them).
func (l *loaded) pick(spec string) (*ladder.Conn, error) {
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 || i >= len(l.conns) {
			return nil, fmt.Errorf("--conn %d: %s has %d connection(s), numbered from 0", i, l.path, len(l.conns))
		}
		return l.conns[i], nil
	}
	var parts []string
	for _, sep := range []string{"<->", "->", ",", " ", "-"} {
		if p := strings.Split(spec, sep); len(p) == 2 {
			parts = p
			break
		}
	}
	if parts == nil {
		return nil, fmt.Errorf("--conn %q: want an index or two endpoints like 192.0.2.1:40000,192.0.2.2:80", spec)
	}
	var ends [2]netip.AddrPort
	for i, p := range parts {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("--conn %q: %v", spec, err)
		}
		ends[i] = ap
	}
	var found []*ladder.Conn
	for _, c := range l.conns {
		if c.Client == ends[0] && c.Server == ends[1] || c.Client == ends[1] && c.Server == ends[0] {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("--conn %q: no such connection in %s", spec, l.path)
	case 1:
		return found[0], nil
	}
	idx := make([]string, len(found))
	for i, c := range found {
		idx[i] = strconv.Itoa(c.Index)
	}
	return nil, fmt.Errorf("--conn %q: the tuple was used by connections %s; pick one by index", spec, strings.Join(idx, ", "))
}

// list writes one line per connection.
func (l *loaded) list(w io.Writer) {
	if len(l.conns) == 0 {
		fmt.Fprintf(w, "%s: no TCP connections\n", l.path)
		return
	}
	noun := "connections"
	if len(l.conns) == 1 {
		noun = "connection"
	}
	fmt.Fprintf(w, "%s: %d TCP %s; pick one with --conn INDEX or --conn CLIENT,SERVER\n\n", l.path, len(l.conns), noun)
	rows := [][]string{{"#", "client", "server", "start", "duration", "packets", "bytes c>s", "bytes s>c", "seen"}}
	t0 := l.conns[0].First
	for _, c := range l.conns {
		var seen []string
		for _, f := range []struct {
			on   bool
			name string
		}{{c.SYN, "SYN"}, {c.FIN, "FIN"}, {c.RST, "RST"}} {
			if f.on {
				seen = append(seen, f.name)
			}
		}
		rows = append(rows, []string{
			strconv.Itoa(c.Index), c.Client.String(), c.Server.String(),
			ladder.CaptureTimeLabel(c.First.Sub(t0)) + " ms", ladder.CaptureTimeLabel(c.Last.Sub(c.First)) + " ms",
			strconv.Itoa(len(c.Segs)), strconv.FormatInt(c.Bytes[ladder.Client], 10),
			strconv.FormatInt(c.Bytes[ladder.Server], 10), strings.Join(seen, ","),
		})
	}
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == 1 || i == 2 || i == len(r)-1 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "%*s", width[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
