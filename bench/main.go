// Command bench measures threeway against gVisor's netstack in one run.
//
//	cd bench && go run . [-json] [-quick]
//
// Both stacks run in this process, a client stack and a server stack of
// each kind joined by a threeway link.Pipe with the same MTU and the same
// 1 MiB send and receive buffers. gVisor reaches the pipe through a small
// stack.LinkEndpoint adapter (gvlink.go), so the transport, its queue
// length and its copies are identical for both. Every measurement builds
// fresh stacks, runs for a bounded time, and is repeated for each stack in
// alternating order; the best round is kept (latency pools its rounds).
//
// This module is separate from threeway's so that gVisor never becomes a
// dependency of threeway itself.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func main() {
	var (
		jsonOut    = flag.Bool("json", false, "print one JSON object per metric per line (header goes to stderr)")
		quick      = flag.Bool("quick", false, "smaller sizes and shorter windows (< 40 s)")
		stacks     = flag.String("stacks", "threeway,gvisor", "stacks to measure (comma-separated)")
		metrics    = flag.String("metrics", strings.Join(allMetrics, ","), "metrics to measure (comma-separated)")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
		memprofile = flag.String("memprofile", "", "write an allocation profile at the end of the run to this file")
		quiet      = flag.Bool("q", false, "no progress on stderr")
		mtus       = flag.String("mtus", "", "bulk-throughput MTUs, comma-separated (default 1500,9000,65535)")
		lossyTrace = flag.String("lossytrace", "", "write a time-sequence file (ms, bytes received) per lossy run into this directory")
		lossyPlot  = flag.String("lossyplot", "", "write a time-sequence plot (SVG, as `threeway plot` draws) of each lossy run into this directory; the capture it needs costs some speed")
		seeds      = flag.Int("seeds", 0, "lossy family: seeds per path (default 3, quick 1)")
	)
	flag.Parse()

	r := &runner{s: defaultSettings(*quick), progress: os.Stderr}
	if *mtus != "" {
		r.s.MTUs = nil
		for _, m := range strings.Split(*mtus, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(m))
			if err != nil || n < 1280 || n > 65535 {
				fatalf("bad MTU %q (want 1280..65535)", m)
			}
			r.s.MTUs = append(r.s.MTUs, n)
		}
	}
	if *quiet {
		r.progress = nil
	}
	r.s.LossyTrace = *lossyTrace
	r.s.LossyPlot = *lossyPlot
	if *seeds > 0 {
		r.s.LossySeeds = *seeds
	}
	for _, name := range strings.Split(*stacks, ",") {
		switch strings.TrimSpace(name) {
		case "threeway":
			r.kinds = append(r.kinds, threewayKind)
		case "gvisor":
			r.kinds = append(r.kinds, gvisorKind)
		default:
			fatalf("unknown stack %q (want threeway, gvisor)", name)
		}
	}
	r.metrics = map[string]bool{}
	for _, name := range strings.Split(*metrics, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, m := range allMetrics {
			found = found || m == name
		}
		if !found {
			fatalf("unknown metric %q (want %s)", name, strings.Join(allMetrics, ", "))
		}
		r.metrics[name] = true
	}

	headerOut := io.Writer(os.Stdout)
	if *jsonOut {
		headerOut = os.Stderr
	}
	writeHeader(headerOut, r.s, *quick)

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatalf("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatalf("%v", err)
		}
		defer f.Close()
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 4096
	}
	start := time.Now()
	err := r.run()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if *memprofile != "" {
		f, ferr := os.Create(*memprofile)
		if ferr != nil {
			fatalf("%v", ferr)
		}
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fatalf("%v", err)
	}
	if *jsonOut {
		writeJSON(os.Stdout, r.rows)
	} else {
		fmt.Println()
		writeTable(os.Stdout, r.rows)
		fmt.Printf("\nratio > 1: threeway better (threeway/gvisor for rates, gvisor/threeway for costs). Run took %v.\n",
			time.Since(start).Round(time.Second))
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

// gvisorVersion is the gVisor module version this binary was built with.
func gvisorVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == "gvisor.dev/gvisor" {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path + " " + d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

func writeHeader(w io.Writer, s settings, quick bool) {
	mode := "full"
	if quick {
		mode = "quick"
	}
	mtus := make([]string, len(s.MTUs))
	for i, m := range s.MTUs {
		mtus[i] = strconv.Itoa(m)
	}
	fmt.Fprintf(w, "threeway vs gVisor netstack (%s run)\n", mode)
	fmt.Fprintf(w, "  go:        %s %s/%s, GOMAXPROCS=%d, NumCPU=%d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(w, "  gvisor:    gvisor.dev/gvisor %s (Reno, SACK on, RACK, receive-buffer moderation capped at the buffer size)\n", gvisorVersion())
	fmt.Fprintf(w, "  threeway:  this tree (../), CUBIC + HyStart++, SACK/RACK-TLP, delayed ACK, SACK/timestamps/window scaling offered\n")
	fmt.Fprintf(w, "  transport: two stacks per kind in one process on a threeway link.Pipe (queue %d packets,\n", queueLen)
	fmt.Fprintf(w, "             one copy into the peer's queue, one copy out to the reader); gVisor attached by a\n")
	fmt.Fprintf(w, "             stack.LinkEndpoint adapter that gathers each packet into one buffer and reads into gVisor views\n")
	fmt.Fprintf(w, "  settings:  MTU %s for bulk, %d otherwise; send/recv buffers %d KiB on both stacks;\n",
		strings.Join(mtus, "/"), s.MTU, s.Buffer>>10)
	fmt.Fprintf(w, "             bulk %d MiB one way (cap %v); conn rate %v in batches of <= %d conns; %d idle conns; %d handshakes;\n",
		s.BulkBytes>>20, s.BulkTimeout, s.ConnWindow, s.ConnMax, s.MemConns, s.Handshakes)
	fmt.Fprintf(w, "             latency %v or %d round trips; %d rounds per stack, alternating order, best round kept\n",
		s.LatWindow, s.LatMax, s.Rounds)
	fmt.Fprintf(w, "             (latency: rounds pooled; memory: one round)\n")
	fmt.Fprintf(w, "  lossy:     one connection per path for %v, %d KiB buffers, loss/reordering on the data direction only,\n", s.LossyWindow, s.LossyBuffer>>10)
	fmt.Fprintf(w, "             median of %d seeds; retransmitted segments of both stacks; gaps = reads > %v apart\n", s.LossySeeds, gapLimit)
}

// format prints a value with about three significant digits.
func format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "inf"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func writeTable(w io.Writer, rows []*row) {
	cells := [][]string{{"metric", "unit", "threeway", "gvisor", "ratio"}}
	for _, r := range rows {
		ratio := r.ratio()
		rs := format(ratio)
		if !math.IsNaN(ratio) && !math.IsInf(ratio, 0) {
			rs = strconv.FormatFloat(ratio, 'f', 2, 64)
		}
		cells = append(cells, []string{r.Metric, r.Unit, format(r.Val[threewayKind]), format(r.Val[gvisorKind]), rs})
	}
	width := make([]int, len(cells[0]))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	for n, c := range cells {
		var b strings.Builder
		for i, s := range c {
			if i > 0 {
				b.WriteString(" | ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if i < 2 { // text columns left, numbers right
				b.WriteString(s + pad)
			} else {
				b.WriteString(pad + s)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			var sep strings.Builder
			for i, wd := range width {
				if i > 0 {
					sep.WriteString("-|-")
				}
				sep.WriteString(strings.Repeat("-", wd))
			}
			fmt.Fprintln(w, sep.String())
		}
	}
}

// jsonNum is a float that encodes NaN and infinities as null.
type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

type jsonRow struct {
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	Threeway jsonNum `json:"threeway"`
	Gvisor   jsonNum `json:"gvisor"`
	Ratio    jsonNum `json:"ratio"`
}

func writeJSON(w io.Writer, rows []*row) {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		enc.Encode(jsonRow{
			Metric: r.Metric, Unit: r.Unit,
			Threeway: jsonNum(r.Val[threewayKind]), Gvisor: jsonNum(r.Val[gvisorKind]),
			Ratio: jsonNum(r.ratio()),
		})
	}
}
