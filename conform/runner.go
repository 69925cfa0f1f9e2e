package conform

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// failure is a script that did not run as written: the line and what
// went wrong.
type failure struct {
	line int
	msg  string
}

func (f *failure) Error() string {
	if f.line > 0 {
		return fmt.Sprintf("line %d: %s", f.line, f.msg)
	}
	return f.msg
}

func failf(line int, format string, args ...any) *failure {
	return &failure{line: line, msg: fmt.Sprintf(format, args...)}
}

// debugPackets, when set, sees every packet the stack sends.
var debugPackets func(p *tcpPacket, at string)

// scriptConn is one connection the script talks on.
type scriptConn struct {
	id                    int
	localPort, remotePort uint16
	m                     seqMap
	// lastSent is the latest packet the stack sent on the connection.
	lastSent *tcpPacket
	// gen is the runner's socket generation when the connection began.
	gen int
}

// sentTCP is an outbound TCP packet waiting to be matched.
type sentTCP struct {
	p  *tcpPacket
	at time.Duration
	c  *scriptConn
}

// fdState is a script file descriptor.
type fdState struct {
	s        sock      // nil for an epoll instance
	ep       *epollSet // an epoll instance's registrations
	nonblock bool
	v6       bool
}

// pendingCall is a blocking system call that has not returned yet.
type pendingCall struct {
	ev    *Event
	start time.Duration
	end   time.Duration // when the script expects it to return
	try   func() (done bool, res int64, err error)
	check func(res int64, err error, at time.Duration) error
}

type runner struct {
	s     *Script
	cfg   *Config
	b     backend
	linux bool

	fds        map[int]*fdState
	conns      []*scriptConn
	queue      []sentTCP
	pending    *pendingCall
	notes      []string
	err        error
	listenPort uint16
	socketUsed bool
	// testSock is packetdrill's socket under test: the latest socket()
	// or accept(), whose tcp_info %{ }% blocks read.
	testSock sock
	py       *pyEnv
	gsoSize  int // the segment size of the GRO packet being injected

	// markers is set when the script names connections ([conn N]);
	// otherwise, as in packetdrill, packets go with the latest
	// connection, current.
	markers bool
	current *scriptConn
	// newListener is set by a listen() after the current connection
	// began: the script's next SYN opens a new connection.
	newListener bool
	// sockGen counts socket() calls: as packetdrill's socket under test
	// moves to each new socket, packets of connections from before it
	// are not the script's to check (unless it names connections).
	sockGen int

	lastScript   time.Duration // the previous event's script time, made absolute
	prevInbound  bool
	prevInboundT time.Duration
}

func newRunner(s *Script, cfg *Config, b backend) *runner {
	r := &runner{
		s: s, cfg: cfg, b: b, linux: b.name() == "linux",
		fds: map[int]*fdState{}, listenPort: cfg.BindPort,
	}
	for _, ev := range s.Events {
		if ev.Packet != nil && ev.Packet.Conn > 0 {
			r.markers = true
		}
	}
	return r
}

func (r *runner) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// fail records the first failure.
func (r *runner) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// run executes the script's events in order.
func (r *runner) run() error {
	events := r.s.Events
	// packetdrill runs the init command before time 0.
	for len(events) > 0 && events[0].Command != "" && events[0].Kind == TimeAbsolute && events[0].Time == 0 {
		if err := r.command(events[0]); err != nil {
			return err
		}
		events = events[1:]
	}
	r.b.restartClock()
	defer func() {
		if r.s.Cleanup != "" {
			if err := r.b.shell(r.s.Cleanup, r.s.Dir, r.note); err != nil {
				r.note("cleanup command: %v", err)
			}
		}
	}()
	for _, ev := range events {
		if r.linux && ev.LinuxSkip {
			r.note("line %d skipped on Linux (linux-skip)", ev.Line)
			continue
		}
		if !r.linux && ev.ThreewaySkip {
			r.note("line %d skipped on threeway (threeway-skip)", ev.Line)
			continue
		}
		if err := r.event(ev); err != nil {
			r.fail(err)
		}
		if r.err != nil {
			return r.err
		}
	}
	r.finish()
	return r.err
}

// eventTimes returns an event's expected time (range) on the run's clock.
func (r *runner) eventTimes(ev *Event) (lo, hi time.Duration) {
	var base time.Duration
	switch ev.Kind {
	case TimeRelative, TimeRelativeRange, TimeAny:
		base = r.b.now()
		// Consecutive inbound packets are anchored to each other's
		// script times, so processing delays do not add up.
		if r.prevInbound && ev.Packet != nil && ev.Packet.Dir == Inbound {
			base = r.prevInboundT
		}
	}
	lo = base + ev.Time
	hi = lo
	if ev.Kind == TimeAbsoluteRange || ev.Kind == TimeRelativeRange {
		hi = base + ev.TimeEnd
	}
	return lo, hi
}

func (r *runner) tolerance(at time.Duration) time.Duration {
	t := r.cfg.tolerance(at - r.lastScript)
	return max(t, r.b.minTolerance())
}

func (r *runner) event(ev *Event) error {
	if ev.Command != "" {
		return r.command(ev)
	}
	lo, hi := r.eventTimes(ev)
	var err error
	switch {
	case ev.Code != "":
		err = r.code(ev, lo)
	case ev.Packet != nil && ev.Packet.Dir == Inbound:
		err = r.inbound(ev, lo)
	case ev.Packet != nil:
		err = r.outbound(ev, lo, hi)
	case ev.Syscall != nil:
		err = r.syscall(ev, lo)
	}
	r.lastScript = lo
	r.prevInbound = ev.Packet != nil && ev.Packet.Dir == Inbound
	r.prevInboundT = lo
	return err
}

// command runs a backquoted shell line on the backend: the Linux
// backend with sh in its namespace, threeway by mapping what it
// understands (see shell.go).
func (r *runner) command(ev *Event) error {
	if err := r.b.shell(ev.Command, r.s.Dir, r.note); err != nil {
		return failf(ev.Line, "shell line: %v", err)
	}
	return nil
}

// code evaluates a %{ }% block at its time against the tcp_info of the
// socket under test.
func (r *runner) code(ev *Event, at time.Duration) error {
	r.advanceTo(at)
	if r.err != nil {
		return r.err
	}
	if r.py == nil {
		r.py = &pyEnv{vars: map[string]pyVal{}, backend: r.b.name()}
	}
	r.py.info, r.py.infoErr = nil, nil
	if r.testSock == nil {
		r.py.infoErr = errors.New("no socket yet")
	} else {
		r.py.info, r.py.infoErr = r.testSock.info()
	}
	r.py.printed = r.py.printed[:0]
	err := runPython(ev.Code, r.py)
	for _, p := range r.py.printed {
		r.note("line %d: print: %s", ev.Line, p)
	}
	if err != nil {
		return failf(ev.Line, "%%{ }%%: %v", err)
	}
	return nil
}

// advanceTo moves time to at, collecting what the stack sends and
// completing blocking calls on the way.
func (r *runner) advanceTo(at time.Duration) {
	for r.err == nil && r.b.now() < at {
		r.b.step(at)
		r.collect()
		r.retryPending()
	}
}

// checkLate fails an inbound packet or call the backend reached later
// than the script allows.
func (r *runner) checkLate(ev *Event, at time.Duration, what string) error {
	if now := r.b.now(); now > at+r.tolerance(at) {
		return failf(ev.Line, "timing: %s due at %s ran at %s", what, secs(at), secs(now))
	}
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.6fs", d.Seconds()) }

// collect decodes the packets the stack sent and queues its TCP packets
// to the script's address.
func (r *runner) collect() {
	for _, sp := range r.b.sent() {
		p, err := decodePacket(sp.data)
		if err != nil {
			if !errors.Is(err, errNotTCP) {
				r.note("undecodable packet from the stack: %v", err)
			}
			continue
		}
		if p.Src != r.cfg.LocalIP || p.Dst != r.cfg.RemoteIP {
			continue
		}
		if debugPackets != nil {
			debugPackets(p, secs(sp.at))
		}
		c := r.connByPorts(p.SrcPort, p.DstPort)
		if c == nil {
			c = &scriptConn{id: len(r.conns) + 1, localPort: p.SrcPort, remotePort: p.DstPort, gen: r.sockGen}
			r.conns = append(r.conns, c)
			r.current = c
		}
		c.lastSent = p
		r.queue = append(r.queue, sentTCP{p: p, at: sp.at, c: c})
	}
}

func (r *runner) connByPorts(local, remote uint16) *scriptConn {
	for _, c := range r.conns {
		if c.localPort == local && c.remotePort == remote {
			return c
		}
	}
	return nil
}

// connForInbound finds or creates the connection an injected packet is on.
func (r *runner) connForInbound(ev *Event) (*scriptConn, error) {
	ps := ev.Packet
	if !r.markers && r.current != nil {
		if !(r.newListener && ps.ICMP == nil && ps.Flags&(wire.FlagSYN|wire.FlagACK) == wire.FlagSYN) {
			return r.current, nil
		}
		// A SYN to a listener made after the current connection: a new
		// connection, from a new port.
		r.newListener = false
		c := &scriptConn{id: len(r.conns) + 1, localPort: r.listenPort, remotePort: remotePortBase + uint16(len(r.conns)), gen: r.sockGen}
		r.conns = append(r.conns, c)
		r.current = c
		return c, nil
	}
	id := max(ev.Packet.Conn, 1)
	if id <= len(r.conns) {
		return r.conns[id-1], nil
	}
	if id != len(r.conns)+1 {
		return nil, failf(ev.Line, "conn %d used before conn %d", id, len(r.conns)+1)
	}
	c := &scriptConn{id: id, localPort: r.listenPort, remotePort: remotePortBase + uint16(id) - 1, gen: r.sockGen}
	r.conns = append(r.conns, c)
	r.current = c
	r.newListener = false
	return c, nil
}

func (r *runner) inbound(ev *Event, at time.Duration) error {
	r.advanceTo(at)
	if r.err != nil {
		return r.err
	}
	if err := r.checkLate(ev, at, "inbound packet"); err != nil {
		return err
	}
	c, err := r.connForInbound(ev)
	if err != nil {
		return err
	}
	pkts, err := r.buildInbound(ev.Packet, c)
	if err != nil {
		return failf(ev.Line, "%v", err)
	}
	r.socketUsed = true
	for _, pkt := range pkts {
		gso := 0
		if len(pkt) > r.cfg.MTU {
			gso = r.gsoSize
		}
		if err := r.b.inject(pkt, gso); err != nil {
			return failf(ev.Line, "injecting packet: %v", err)
		}
	}
	r.b.settle()
	r.collect()
	r.retryPending()
	return nil
}

// buildInbound turns an inbound line into the packets to inject: one,
// or, for a segment larger than the MTU (a GRO packet, which packetdrill
// hands the kernel whole with a gso_size), a train of --mss sized
// segments.
func (r *runner) buildInbound(ps *PacketSpec, c *scriptConn) ([][]byte, error) {
	m := &c.m
	p := &tcpPacket{
		Src: r.cfg.RemoteIP, Dst: r.cfg.LocalIP,
		SrcPort: c.remotePort, DstPort: c.localPort,
		Flags: ps.Flags, Payload: ps.Len, Window: 65535,
		TOS: ps.IP.TOS | ps.IP.ECN, TTL: ps.IP.TTL, FlowLabel: ps.IP.FlowLabel,
	}
	if ps.ICMP != nil {
		return r.buildICMP(ps, c)
	}
	p.Seq = m.inboundSeq(ps.Start, ps.Flags&wire.FlagSYN != 0, ps.Flags&wire.FlagACK != 0)
	if ps.HasAck {
		p.Ack = m.inboundAck(ps.Ack)
	}
	if ps.HasWin {
		p.Window = ps.Win
	}
	if ps.AnyOptions {
		return nil, errors.New("an inbound packet needs its options written out, not <...>")
	}
	for _, o := range ps.Options {
		switch o.Kind {
		case OptTS:
			o.Ecr = m.inboundEcr(o.Ecr)
		case OptSACK:
			blocks := make([][2]uint32, len(o.Blocks))
			for i, b := range o.Blocks {
				blocks[i] = [2]uint32{m.inboundAck(b[0]), m.inboundAck(b[1])}
			}
			o.Blocks = blocks
		}
		p.Options = append(p.Options, o)
	}
	one, err := encodePacket(p)
	if err != nil {
		return nil, err
	}
	if len(one) <= r.cfg.MTU {
		return [][]byte{one}, nil
	}
	size := r.cfg.segmentSize() - (len(one) - p.Payload - r.cfg.headerLen())
	if size <= 0 || ps.Flags&(wire.FlagSYN|wire.FlagRST) != 0 {
		return nil, fmt.Errorf("the packet is %d bytes, more than the MTU (%d), and cannot be cut into segments", len(one), r.cfg.MTU)
	}
	if r.cfg.Offloads {
		r.gsoSize = size
		return [][]byte{one}, nil
	}
	var out [][]byte
	total, seq := p.Payload, p.Seq
	for off := 0; off < total; off += size {
		seg := *p
		seg.Seq = seq + uint32(off)
		seg.Payload = min(size, total-off)
		if off+seg.Payload < total {
			// PSH and FIN go on the last segment only.
			seg.Flags &^= wire.FlagFIN | wire.FlagPSH
		}
		b, err := encodePacket(&seg)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// buildICMP makes an ICMP error about the stack's segment the line names
// (by its sequence number), or its latest one.
func (r *runner) buildICMP(ps *PacketSpec, c *scriptConn) ([][]byte, error) {
	m := &c.m
	orig := &tcpPacket{
		Src: r.cfg.LocalIP, Dst: r.cfg.RemoteIP,
		SrcPort: c.localPort, DstPort: c.remotePort,
		Flags: wire.FlagACK, Window: 65535,
	}
	if ps.ICMP.HasEchoed {
		orig.Seq = m.inboundAck(ps.ICMP.Start)
		orig.Payload = int(ps.ICMP.End - ps.ICMP.Start)
	} else {
		orig.Seq = m.stackISN
		if c.lastSent != nil {
			orig.Seq = c.lastSent.Seq
		}
	}
	orig.Ack = m.outboundAck(0)
	if orig.Payload > 1400 {
		orig.Payload = 1400
	}
	b, err := encodeICMP(ps.ICMP, r.cfg.RemoteIP, orig)
	if err != nil {
		return nil, err
	}
	return [][]byte{b}, nil
}

func (r *runner) outbound(ev *Event, lo, hi time.Duration) error {
	ps := ev.Packet
	tol := r.tolerance(lo)
	deadline := hi + tol
	if ev.Kind == TimeAny {
		deadline = r.b.now() + r.b.maxWait()
	}
	r.collect()
	r.dropStale()
	for r.err == nil && len(r.queue) == 0 && r.b.now() < deadline {
		r.b.step(deadline)
		r.collect()
		r.retryPending()
		r.dropStale()
	}
	if r.err != nil {
		return r.err
	}
	if len(r.queue) == 0 {
		// Look a little further, to say when it did come.
		limit := r.b.now() + r.b.maxWait()
		for r.err == nil && len(r.queue) == 0 && r.b.now() < limit {
			r.b.step(limit)
			r.collect()
		}
		if len(r.queue) == 0 {
			return failf(ev.Line, "expected `%s` at %s, but the stack sent nothing", specString(ps), secs(lo))
		}
	}
	got := r.queue[0]
	r.queue = r.queue[1:]
	want := max(ps.Conn, 1)
	if !r.markers {
		want = got.c.id
	}
	if got.c.id != want {
		return failf(ev.Line, "expected `%s` on conn %d, got `%s` on conn %d (port %d -> %d)",
			specString(ps), want, gotString(got.p, &got.c.m), got.c.id, got.p.SrcPort, got.p.DstPort)
	}
	if diffs := matchOutbound(ps, got.p, &got.c.m, r.cfg.StrictOptions, r.cfg.IgnorePSH); len(diffs) > 0 {
		return failf(ev.Line, "expected `%s`, got `%s` (%s)", specString(ps), gotString(got.p, &got.c.m), strings.Join(diffs, "; "))
	}
	if ev.Kind != TimeAny && (got.at < lo-tol || got.at > hi+tol) {
		when := secs(lo)
		if hi != lo {
			when = secs(lo) + "~" + secs(hi)
		}
		return failf(ev.Line, "timing: expected `%s` at %s (tolerance %s), got it at %s",
			specString(ps), when, tol, secs(got.at))
	}
	return nil
}

// dropStale drops queued packets of connections from before the latest
// socket() of a script that names no connections: packetdrill checks
// only the socket under test's.
func (r *runner) dropStale() {
	if r.markers {
		return
	}
	kept := r.queue[:0]
	for _, q := range r.queue {
		if q.c.gen < r.sockGen {
			r.note("`%s` at %s is from an earlier socket's connection: not checked", gotString(q.p, &q.c.m), secs(q.at))
			continue
		}
		kept = append(kept, q)
	}
	r.queue = kept
}

// finish ends a run: a blocking call still waiting, or a packet the
// script did not expect, fails it.
func (r *runner) finish() {
	if r.err != nil {
		return
	}
	r.b.settle()
	r.collect()
	r.retryPending()
	if p := r.pending; p != nil {
		// Give a blocked call its time to return.
		deadline := p.end + r.tolerance(p.end)
		for r.err == nil && r.pending != nil && r.b.now() < deadline {
			r.b.step(deadline)
			r.collect()
			r.retryPending()
		}
	}
	if r.err != nil {
		return
	}
	if p := r.pending; p != nil {
		r.fail(failf(p.ev.Line, "`%s` did not return by the end of the script", p.ev.Text))
		return
	}
	if len(r.queue) > 0 && r.cfg.StrictEnd {
		got := r.queue[0]
		r.fail(failf(0, "after the last line the stack sent `%s` at %s, which the script does not expect",
			gotString(got.p, &got.c.m), secs(got.at)))
	}
}
