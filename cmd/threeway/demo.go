package main

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/threeway-tcp/threeway/internal/simnet"
	"github.com/threeway-tcp/threeway/ladder"
)

func init() {
	commands["demo"] = &command{
		summary: "run a TCP conversation between two in-memory stacks and draw it as a ladder diagram",
		run:     func(args []string) error { return demoCommand(args, os.Stdout) },
	}
}

const demoSynopsis = "demo [--loss P] [--seed N] [--simultaneous | --fastopen] [--pcap FILE] [--ipv6] [--no-color]"

// The demo's fixed parameters.
const (
	linkDelay = 10 * time.Millisecond // each way
	demoMSL   = time.Second           // TIME-WAIT lasts 2 s of simulated time
	demoLimit = 2 * time.Hour         // simulated; past every retransmission timeout
	echoPort  = 7
	simPortA  = 5000 // simultaneous open: the client's port
	simPortB  = 6000 // and the server's
)

// demoEpoch is when simulated time starts; only differences are shown.
var demoEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	clientMsg = "hello, threeway"
	serverMsg = "hello, client" // the server's message in a simultaneous open
)

// demoConfig is what the flags chose.
type demoConfig struct {
	Loss         float64
	Seed         uint64
	Simultaneous bool
	FastOpen     bool
	IPv6         bool
	Pcap         string
	Color        bool
}

func demoCommand(args []string, stdout io.Writer) error {
	fs := newFlagSet("demo", demoSynopsis)
	var cfg demoConfig
	fs.Float64Var(&cfg.Loss, "loss", 0, "probability `P` (0 to 0.9) that the link loses a packet, each way; "+
		"when P > 0 the first SYN is always lost too")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed `N` for the link's random choices and the stacks' secrets")
	fs.BoolVar(&cfg.Simultaneous, "simultaneous", false,
		"no listener: both hosts dial each other at once (simultaneous open, RFC 9293 §3.5)")
	fs.BoolVar(&cfg.FastOpen, "fastopen", false,
		"TCP Fast Open (RFC 7413): a first connection fetches a cookie, a second carries its message in the SYN")
	fs.StringVar(&cfg.Pcap, "pcap", "", "write the client's packets to pcap `FILE`")
	fs.BoolVar(&cfg.IPv6, "ipv6", false, "use 2001:db8::1 and 2001:db8::2 instead of 192.0.2.1 and 192.0.2.2")
	noColor := fs.Bool("no-color", false, "no ANSI colours (also off when stdout is not a terminal or NO_COLOR is set)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "threeway demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if cfg.Simultaneous && cfg.FastOpen {
		return fmt.Errorf("demo: --simultaneous and --fastopen are different conversations; pick one")
	}
	if !(cfg.Loss >= 0 && cfg.Loss <= 0.9) {
		return fmt.Errorf("demo: --loss %v is not between 0 and 0.9", cfg.Loss)
	}
	cfg.Color = !*noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	return runDemo(cfg, stdout)
}

// run drives the conversation apps (the client's, then the server's) to
// its end: both applications have returned and both hosts are back in
// CLOSED (TIME-WAIT over), or one failed; the echo client's failure ends
// it at once. The error is the client's, else the server's (both, in
// that order, for a simultaneous open).
func (n *demoNet) run(apps []simnet.App) error {
	var returned [2]bool
	var errs [2]error
	for i, a := range apps {
		apps[i] = func(w *simnet.Waiter) error {
			errs[i] = a(w)
			returned[i] = true
			return errs[i]
		}
	}
	done := func() bool {
		if errs[ladder.Client] != nil && !n.cfg.Simultaneous {
			return true
		}
		return returned[0] && returned[1] && (errs[0] != nil || errs[1] != nil || allClosed(n.rec.Events()))
	}
	if err := n.net.Run(demoLimit, done, apps...); err != nil && errs == [2]error{} {
		return err // the driver's own
	}
	if n.cfg.Simultaneous {
		return errors.Join(errs[0], errs[1])
	}
	return cmp.Or(errs[ladder.Client], errs[ladder.Server])
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// demoSecret derives a stack's ISN secret from the seed, so that a seed
// replays a conversation exactly.
func demoSecret(seed uint64, who byte) *[16]byte {
	var s [16]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	copy(s[8:], "threeway")
	s[15] = who
	return &s
}

// runDemo runs the conversation cfg asks for and writes the diagram and
// summary to w. The output depends only on cfg: the clock is simulated,
// the secrets and the link's randomness come from the seed.
func runDemo(cfg demoConfig, w io.Writer) error {
	n, err := newDemoNet(cfg)
	if err != nil {
		return err
	}
	var apps []simnet.App
	switch {
	case cfg.Simultaneous:
		apps, err = n.simultaneous()
	case cfg.FastOpen:
		apps, err = n.fastOpen()
	default:
		apps, err = n.echo()
	}
	var runErr error
	if err != nil {
		runErr = err
	} else {
		runErr = n.run(apps)
	}
	evs := n.rec.Events()
	closeErr := n.close()
	// Applications left waiting (after a failure) end on closed stacks.
	n.net.Stop()

	var out bytes.Buffer
	n.writeHeader(&out)
	for _, l := range ladder.Render(evs, ladder.Style{Color: cfg.Color}) {
		out.WriteString(l)
		out.WriteByte('\n')
	}
	n.writeSummary(&out, evs)
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("demo: %w", runErr)
	}
	if closeErr != nil {
		return fmt.Errorf("demo: pcap: %w", closeErr)
	}
	return nil
}
