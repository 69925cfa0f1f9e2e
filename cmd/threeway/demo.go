package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

func init() {
	commands["demo"] = &command{
		summary: "run a TCP conversation between two in-memory stacks and draw it as a ladder diagram",
		run:     func(args []string) error { return demoCommand(args, os.Stdout) },
	}
}

const demoSynopsis = "demo [--loss P] [--seed N] [--simultaneous] [--pcap FILE] [--ipv6] [--no-color]"

// The demo's fixed parameters.
const (
	linkDelay   = 10 * time.Millisecond // each way
	demoMSL     = time.Second           // TIME-WAIT lasts 2 s of simulated time
	demoQuiet   = 30 * time.Millisecond // real time the system must idle before simulated time jumps
	demoTimeout = 20 * time.Second      // real time; the demo normally takes a fraction of a second
	echoPort    = 7
	simPortA    = 5000 // simultaneous open: the client's port
	simPortB    = 6000 // and the server's
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
	IPv6         bool
	Pcap         string
	Color        bool
	Quiet        time.Duration // AutoAdvance's quiet period; zero means demoQuiet
}

func demoCommand(args []string, stdout io.Writer) error {
	fs := newFlagSet("demo", demoSynopsis)
	var cfg demoConfig
	fs.Float64Var(&cfg.Loss, "loss", 0, "probability `P` (0 to 0.9) that the link loses a packet, each way; "+
		"when P > 0 the first SYN is always lost too")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed `N` for the link's random choices and the stacks' secrets")
	fs.BoolVar(&cfg.Simultaneous, "simultaneous", false,
		"no listener: both hosts dial each other at once (simultaneous open, RFC 9293 §3.5)")
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
	if !(cfg.Loss >= 0 && cfg.Loss <= 0.9) {
		return fmt.Errorf("demo: --loss %v is not between 0 and 0.9", cfg.Loss)
	}
	cfg.Color = !*noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	return runDemo(cfg, stdout)
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

// dropFirstSYN returns a link filter that drops the first SYN (without
// ACK) it sees and nothing else. The pipe serializes calls per direction.
func dropFirstSYN() func([]byte) bool {
	done := false
	return func(pkt []byte) bool {
		if done {
			return false
		}
		f, ok := tcpFlags(pkt)
		if ok && f&wire.FlagSYN != 0 && f&wire.FlagACK == 0 {
			done = true
			return true
		}
		return false
	}
}

// tcpFlags returns the TCP flags of a raw IP packet.
func tcpFlags(pkt []byte) (wire.Flags, bool) {
	var payload []byte
	switch wire.IPVersion(pkt) {
	case 4:
		ip, err := wire.ParseIPv4(pkt)
		if err != nil || ip.Protocol() != wire.ProtoTCP {
			return 0, false
		}
		payload = ip.Payload()
	case 6:
		ip, err := wire.ParseIPv6(pkt)
		if err != nil || ip.NextHeader() != wire.ProtoTCP {
			return 0, false
		}
		payload = ip.Payload()
	default:
		return 0, false
	}
	h, err := wire.ParseTCP(payload)
	if err != nil {
		return 0, false
	}
	return h.Flags(), true
}

// demoNet is the demo's world: two stacks on a pipe on a simulated clock.
type demoNet struct {
	cfg      demoConfig
	sim      *clock.Sim
	rec      *recorder
	a, b     *link.PipeEnd
	stacks   [2]*threeway.Stack
	addrs    [2]netip.Addr
	pcap     *os.File
	pcapW    *link.PcapWriter
	stopAuto func()
	gate     appGate
	negMu    sync.Mutex
	neg      [2]*tcp.Negotiated // what each side's Conn negotiated, once it has one
}

// negotiated records what side s's connection negotiated.
func (n *demoNet) negotiated(s side, c *threeway.Conn) {
	neg := c.Negotiated()
	n.negMu.Lock()
	defer n.negMu.Unlock()
	n.neg[s] = &neg
}

func newDemoNet(cfg demoConfig) (*demoNet, error) {
	n := &demoNet{cfg: cfg, sim: clock.NewSim(demoEpoch)}
	start := n.sim.Now()
	n.rec = newRecorder(func() time.Duration { return n.sim.Now().Sub(start) })
	n.rec.observe = n.gate.observe

	prefixes := [2]netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("192.0.2.2/24")}
	if cfg.IPv6 {
		prefixes = [2]netip.Prefix{netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("2001:db8::2/64")}
	}
	ab := link.Impairments{Delay: linkDelay, Loss: cfg.Loss}
	ba := link.Impairments{Delay: linkDelay, Loss: cfg.Loss}
	if cfg.Loss > 0 {
		// Random loss may spare the handshake; this makes sure the
		// diagram shows a SYN retransmission.
		ab.Drop = dropFirstSYN()
	}
	n.a, n.b = link.Pipe(link.PipeConfig{Clock: n.sim, Seed: cfg.Seed, AtoB: ab, BtoA: ba})
	var clientLink link.Link = n.a
	if cfg.Pcap != "" {
		f, err := os.Create(cfg.Pcap)
		if err != nil {
			return nil, err
		}
		n.pcap = f
		if n.pcapW, err = link.NewPcapWriter(f, 0); err != nil {
			f.Close()
			return nil, err
		}
		clientLink = link.Capture(n.a, n.pcapW, n.sim)
	}
	links := [2]link.Link{clientLink, n.b}
	secrets := [2]*[16]byte{demoSecret(cfg.Seed, 'c'), demoSecret(cfg.Seed, 's')}
	for s := range n.stacks {
		st, err := threeway.New(threeway.Options{
			Link:      links[s],
			Addrs:     []netip.Prefix{prefixes[s]},
			Clock:     n.sim,
			TCP:       tcp.Config{MSL: demoMSL},
			ISNSecret: secrets[s],
			Tracer:    n.rec.tracer(side(s)),
		})
		if err != nil {
			n.close()
			return nil, err
		}
		n.stacks[s] = st
		n.addrs[s] = prefixes[s].Addr()
	}
	return n, nil
}

// startClock lets simulated time run whenever every goroutine is waiting.
//
// AutoAdvance jumps to the next timer once nobody has used the clock for
// a quiet period of real time. On a loaded machine a goroutine that has
// work to do can look just as quiet for that long, and simulated time
// would skip past what it was about to do, changing the conversation. So
// a watcher pokes the clock (postponing the jump) while
//   - a packet the link delivered has not been read by its stack yet,
//   - a stack is busy under its lock (the watcher's Stats call waits), or
//   - an application goroutine is running, or blocked but just given
//     something that may wake it (see appGate), for at most appWake.
func (n *demoNet) startClock() {
	if n.stopAuto != nil {
		return
	}
	q := n.cfg.Quiet
	if q <= 0 {
		q = demoQuiet
	}
	stopAuto := n.sim.AutoAdvance(q)
	quit, done := make(chan struct{}), make(chan struct{})
	go n.watch(quit, done)
	n.stopAuto = func() {
		close(quit)
		<-done
		stopAuto()
	}
}

// appWake bounds how long the watcher holds simulated time for an
// application goroutine, so that a wrong guess costs only real time.
const appWake = 100 * time.Millisecond

// watch pokes the simulated clock while the demo has work pending, until
// quit is closed.
func (n *demoNet) watch(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var checking atomic.Int64 // when (real ns) the running check began; 0 if none
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			checking.Store(time.Now().UnixNano())
			unread := n.unread()
			checking.Store(0)
			if unread {
				n.sim.Poke()
			}
		}
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-quit:
			<-checked
			return
		case <-tick.C:
		}
		if t := checking.Load(); t != 0 && time.Since(time.Unix(0, t)) > time.Millisecond {
			n.sim.Poke() // a stack holds its lock
		}
		if n.gate.active(appWake) {
			n.sim.Poke()
		}
	}
}

// unread reports whether a packet the link delivered has not been read by
// its stack yet.
func (n *demoNet) unread() bool {
	delivered := [2]uint64{n.b.Stats().Delivered, n.a.Stats().Delivered} // to the client, to the server
	for s, st := range n.stacks {
		in := st.Stats()
		if in.InSegs+in.InErrs < delivered[s] {
			return true
		}
	}
	return false
}

// appGate tracks each side's application goroutine for the watcher: it
// is busy while running between blocking calls, and while blocked once
// its stack has done something that may wake it. Before it starts and
// after it finishes it is idle.
type appGate struct {
	mu      sync.Mutex
	blocked [2]bool
	busy    [2]bool
	since   [2]time.Time // real time busy began
}

// start marks side s's application as running.
func (g *appGate) start(s side) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[s], g.busy[s], g.since[s] = false, true, time.Now()
}

// stop marks side s's application as finished.
func (g *appGate) stop(s side) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked[s], g.busy[s] = false, false
}

// wait marks side s's application as blocked and returns the function
// to call once it runs again.
func (g *appGate) wait(s side) (resume func()) {
	g.mu.Lock()
	g.blocked[s], g.busy[s] = true, false
	g.mu.Unlock()
	return func() { g.start(s) }
}

// observe hears every recorded event.
func (g *appGate) observe(e *event) {
	if !mayWake(e) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blocked[e.Side] && !g.busy[e.Side] {
		g.busy[e.Side], g.since[e.Side] = true, time.Now()
	}
}

// mayWake reports whether e may end a blocking Dial, Accept or Read.
func mayWake(e *event) bool {
	switch e.Kind {
	case evState:
		switch e.To {
		case tcp.Established, tcp.CloseWait, tcp.Closing, tcp.TimeWait, tcp.Closed:
			return true
		}
	case evRecv:
		return e.Seg.Len > 0 || e.Seg.Flags&(wire.FlagFIN|wire.FlagRST) != 0
	}
	return false
}

// active reports whether an application may be about to act, giving up
// on one that has not within limit.
func (g *appGate) active(limit time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for s := range g.busy {
		if g.busy[s] && time.Since(g.since[s]) < limit {
			return true
		}
	}
	return false
}

func (n *demoNet) close() error {
	for _, st := range n.stacks {
		if st != nil {
			st.Close()
		}
	}
	if n.stopAuto != nil {
		n.stopAuto()
	}
	var err error
	if n.pcapW != nil {
		err = n.pcapW.Err()
	}
	if n.pcap != nil {
		if cerr := n.pcap.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (n *demoNet) hostPort(s side, port uint16) string {
	return netip.AddrPortFrom(n.addrs[s], port).String()
}

// runDemo runs the conversation cfg asks for and writes the diagram and
// summary to w. The output depends only on cfg: the clock is simulated,
// the secrets and the link's randomness come from the seed.
func runDemo(cfg demoConfig, w io.Writer) error {
	n, err := newDemoNet(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	var runErr error
	if cfg.Simultaneous {
		runErr = n.simultaneous(ctx)
	} else {
		runErr = n.echo(ctx)
	}
	if runErr == nil {
		// Let TIME-WAIT run out: simulated time jumps there once
		// everything else is idle.
		if err := n.rec.waitUntil(ctx, allClosed); err != nil {
			runErr = fmt.Errorf("waiting for both hosts to reach CLOSED: %w", err)
		}
	}
	evs := n.rec.Events()
	closeErr := n.close()

	var out bytes.Buffer
	n.writeHeader(&out)
	for _, l := range renderLadder(evs, ladderStyle{Color: cfg.Color}) {
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

// echo is the default conversation: the client connects to the server's
// echo listener, sends a message, reads the echo, half-closes, reads the
// server's FIN and closes.
func (n *demoNet) echo(ctx context.Context) error {
	cli, srv := n.stacks[clientSide], n.stacks[serverSide]
	n.startClock()
	n.rec.initial(clientSide, "CLOSED")
	ln, err := srv.ListenTCP("tcp", n.hostPort(serverSide, echoPort))
	if err != nil {
		return err
	}
	defer ln.Close()
	n.rec.initial(serverSide, fmt.Sprintf("LISTEN (port %d)", echoPort))

	srvErr := make(chan error, 1)
	n.gate.start(serverSide)
	go func() {
		defer n.gate.stop(serverSide)
		srvErr <- n.echoServer(ctx, ln)
	}()

	n.gate.start(clientSide)
	err = n.echoClient(ctx, cli)
	n.gate.stop(clientSide)
	if err != nil {
		return err
	}
	select {
	case err := <-srvErr:
		return err
	case <-ctx.Done():
		return fmt.Errorf("echo server: %w", ctx.Err())
	}
}

// echoClient connects, sends clientMsg, reads the echo, half-closes,
// reads the server's FIN and closes. Around each call that may block it
// tells the gate.
func (n *demoNet) echoClient(ctx context.Context, st *threeway.Stack) error {
	rec, g := n.rec, &n.gate
	rec.note(clientSide, "Dial()")
	resume := g.wait(clientSide)
	c, err := st.DialTCP(ctx, "tcp", n.hostPort(serverSide, echoPort))
	resume()
	if err != nil {
		return err
	}
	defer c.Close()
	n.negotiated(clientSide, c)

	rec.note(clientSide, fmt.Sprintf("Write(%d bytes)", len(clientMsg)))
	if _, err := c.Write([]byte(clientMsg)); err != nil {
		return err
	}
	buf := make([]byte, len(clientMsg))
	resume = g.wait(clientSide)
	_, err = io.ReadFull(c, buf)
	resume()
	if err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	rec.note(clientSide, fmt.Sprintf("Read() = %d bytes", len(buf)))
	if string(buf) != clientMsg {
		return fmt.Errorf("echo = %q, want %q", buf, clientMsg)
	}
	rec.note(clientSide, "CloseWrite()")
	if err := c.CloseWrite(); err != nil {
		return err
	}
	resume = g.wait(clientSide)
	rest, err := io.ReadAll(c)
	resume()
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected data after the echo: %q", rest)
	}
	rec.note(clientSide, "Read() = EOF")
	rec.note(clientSide, "Close()")
	return c.Close()
}

// echoServer accepts one connection and echoes it until EOF.
func (n *demoNet) echoServer(ctx context.Context, ln *threeway.Listener) error {
	rec, g := n.rec, &n.gate
	resume := g.wait(serverSide)
	nc, err := ln.AcceptContext(ctx)
	resume()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	c := nc.(*threeway.Conn)
	defer c.Close()
	rec.note(serverSide, "Accept()")
	n.negotiated(serverSide, c)
	buf := make([]byte, 1024)
	for {
		resume := g.wait(serverSide)
		k, err := c.Read(buf)
		resume()
		if k > 0 {
			rec.note(serverSide, fmt.Sprintf("Read() = %d bytes", k))
			rec.note(serverSide, fmt.Sprintf("Write(%d bytes)", k))
			if _, werr := c.Write(buf[:k]); werr != nil {
				return fmt.Errorf("echo server: %w", werr)
			}
		}
		if err == io.EOF {
			rec.note(serverSide, "Read() = EOF")
			rec.note(serverSide, "Close()")
			return c.Close()
		}
		if err != nil {
			return fmt.Errorf("echo server: %w", err)
		}
	}
}

// simultaneous is the --simultaneous conversation: both hosts dial each
// other from fixed ports at the same instant, their SYNs cross, each
// sends a message, reads the other's, and closes.
func (n *demoNet) simultaneous(ctx context.Context) error {
	for s := range 2 {
		n.rec.initial(side(s), "CLOSED")
	}
	done := make(chan error, 2)
	for s := range 2 {
		n.gate.start(side(s))
		go func() {
			defer n.gate.stop(side(s))
			done <- n.peer(ctx, side(s))
		}()
	}
	// Simulated time stands still until both SYNs are out, so that
	// neither reaches a host that has not dialed yet.
	both := func(evs []event) bool { return sentSYN(clientSide)(evs) && sentSYN(serverSide)(evs) }
	if err := n.rec.waitUntil(ctx, both); err != nil {
		return fmt.Errorf("waiting for both SYNs: %w", err)
	}
	n.startClock()
	var errs []error
	for range 2 {
		if err := <-done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// peer is one host of the simultaneous open: it dials the other from its
// fixed port, writes its message, reads the other's and closes.
func (n *demoNet) peer(ctx context.Context, s side) error {
	ports := [2]uint16{simPortA, simPortB}
	msgs := [2]string{clientMsg, serverMsg}
	rec, g := n.rec, &n.gate
	rec.note(s, "DialFrom(port "+strconv.Itoa(int(ports[s]))+")")
	resume := g.wait(s)
	c, err := n.stacks[s].DialFrom(ctx, "tcp", n.hostPort(s, ports[s]), n.hostPort(s.other(), ports[s.other()]))
	resume()
	if err != nil {
		return fmt.Errorf("%s: %w", s.name(), err)
	}
	defer c.Close()
	n.negotiated(s, c)

	rec.note(s, fmt.Sprintf("Write(%d bytes)", len(msgs[s])))
	if _, err := c.Write([]byte(msgs[s])); err != nil {
		return fmt.Errorf("%s: %w", s.name(), err)
	}
	buf := make([]byte, len(msgs[s.other()]))
	resume = g.wait(s)
	_, err = io.ReadFull(c, buf)
	resume()
	if err != nil {
		return fmt.Errorf("%s: %w", s.name(), err)
	}
	rec.note(s, fmt.Sprintf("Read() = %d bytes", len(buf)))
	rec.note(s, "Close()")
	return c.Close()
}

func (s side) name() string {
	if s == clientSide {
		return "client"
	}
	return "server"
}

func (n *demoNet) writeHeader(w io.Writer) {
	cfg := n.cfg
	what := "an echo conversation"
	if cfg.Simultaneous {
		what = "a simultaneous open"
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
func (n *demoNet) writeSummary(w io.Writer, evs []event) {
	var end time.Duration
	if len(evs) > 0 {
		end = evs[len(evs)-1].At
	}
	fmt.Fprintf(w, "\nDone after %s ms of simulated time.\n\n", formatMS(end))

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
