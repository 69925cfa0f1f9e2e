package threeway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Forwarded destinations: documentation addresses the stack under test
// does not own (it owns serverAddr and server6).
var (
	farAddr  = netip.MustParseAddr("203.0.113.9")
	farAddr6 = netip.MustParseAddr("2001:db8:ff::9")
	client6A = client6.Addr()
)

// newForwardPeer is a raw peer on a stack that may run on a simulated
// clock and allow spoofed dials.
func newForwardPeer(t *testing.T, sim *clock.Sim, o Options) *rawPeer {
	t.Helper()
	cfg := link.PipeConfig{}
	if sim != nil {
		cfg.Clock = sim
		o.Clock = sim
	}
	a, b := link.Pipe(cfg)
	sec := [16]byte{9}
	o.Link, o.ISNSecret = b, &sec
	if o.Addrs == nil {
		o.Addrs = []netip.Prefix{serverAddr, server6}
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); a.Close() })
	return &rawPeer{t: t, end: a, stack: s, addr: clientAddr.Addr()}
}

// quiet fails if the stack sends anything within d.
func (p *rawPeer) quiet(d time.Duration) {
	p.t.Helper()
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 65536)
		n, _ := p.end.ReadPackets([][]byte{buf}, []int{0})
		if n > 0 {
			got <- buf
		}
	}()
	select {
	case <-got:
		p.t.Fatal("the stack sent a packet; want silence")
	case <-time.After(d):
	}
}

func synTo(src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	return tcpPacket(src, dst, wire.TCPFields{SrcPort: sport, DstPort: dport, Seq: seq, Flags: wire.FlagSYN, Window: 65535},
		&wire.Options{HasMSS: true, MSS: 1400}, nil)
}

// requests collects forward requests the handler saw; the handler
// leaves the decision to the test unless decide is set.
type requests struct {
	ch     chan *ForwardRequest
	calls  atomic.Int32
	decide func(*ForwardRequest)
}

func (r *requests) handle(req *ForwardRequest) {
	r.calls.Add(1)
	if r.decide != nil {
		r.decide(req)
		return
	}
	r.ch <- req
	<-req.Context().Done() // hold the handler until a decision
}

func newRequests() *requests { return &requests{ch: make(chan *ForwardRequest, 64)} }

func (r *requests) next(t *testing.T) *ForwardRequest {
	t.Helper()
	select {
	case req := <-r.ch:
		return req
	case <-time.After(2 * time.Second):
		t.Fatal("no forward request")
		return nil
	}
}

// TestForwardAnyDestinationCompletes: a SYN to an address the stack does
// not own reaches the handler once, with the original endpoints and the
// SYN's options, even when retransmitted; Complete answers from the
// original destination and gives a connection whose LocalAddr it is.
func TestForwardAnyDestinationCompletes(t *testing.T) {
	for _, tc := range []struct{ src, dst netip.Addr }{{clientAddr.Addr(), farAddr}, {client6A, farAddr6}} {
		p := newForwardPeer(t, nil, Options{})
		reqs := newRequests()
		f, err := p.stack.Forward(nil, reqs.handle, ForwardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.send(synTo(tc.src, tc.dst, 40000, 443, 1000))
		req := reqs.next(t)
		p.send(synTo(tc.src, tc.dst, 40000, 443, 1000)) // retransmitted
		p.send(synTo(tc.src, tc.dst, 40000, 443, 1000))
		waitFor(t, 2*time.Second, "duplicates absorbed", func() bool { return f.Stats().Duplicates == 2 })
		if req.Source() != netip.AddrPortFrom(tc.src, 40000) || req.Destination() != netip.AddrPortFrom(tc.dst, 443) {
			t.Fatalf("request %v -> %v", req.Source(), req.Destination())
		}
		if o := req.SYNOptions(); !o.HasMSS || o.MSS != 1400 {
			t.Fatalf("SYN options %+v", o)
		}
		type res struct {
			c   *Conn
			err error
		}
		done := make(chan res, 1)
		go func() {
			c, err := req.Complete(context.Background())
			done <- res{c, err}
		}()
		synack := tcpOf(t, p.next())
		if synack.Flags() != wire.FlagSYN|wire.FlagACK || synack.Ack() != 1001 || synack.SrcPort() != 443 {
			t.Fatalf("want SYN-ACK acking 1001 from port 443, got %v ack %d", synack.Flags(), synack.Ack())
		}
		p.send(tcpPacket(tc.src, tc.dst, wire.TCPFields{SrcPort: 40000, DstPort: 443, Seq: 1001, Ack: synack.Seq() + 1,
			Flags: wire.FlagACK | wire.FlagPSH, Window: 65535}, &wire.Options{}, []byte("hello")))
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if got := r.c.LocalAddr().(*net.TCPAddr).AddrPort(); got != netip.AddrPortFrom(tc.dst, 443) {
			t.Fatalf("LocalAddr %v, want the original destination", got)
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("read %q, %v", buf, err)
		}
		if n := reqs.calls.Load(); n != 1 {
			t.Fatalf("handler called %d times, want 1", n)
		}
		st := f.Stats()
		if st.Requests != 1 || st.Duplicates != 2 || st.Completed != 1 {
			t.Fatalf("stats %+v", st)
		}
		r.c.SetLinger(0)
		r.c.Close()
	}
}

// TestForwardRejectSendsRst: Reject answers the SYN with a RST from the
// original destination, as a closed port.
func TestForwardRejectSendsRst(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	reqs := newRequests()
	p.stack.Forward(nil, reqs.handle, ForwardOptions{})
	p.send(synTo(p.addr, farAddr, 40001, 80, 5000))
	if err := reqs.next(t).Reject(); err != nil {
		t.Fatal(err)
	}
	rst := tcpOf(t, p.next())
	if rst.Flags() != wire.FlagRST|wire.FlagACK || rst.Ack() != 5001 || rst.SrcPort() != 80 {
		t.Fatalf("want RST|ACK acking 5001, got %v ack %d", rst.Flags(), rst.Ack())
	}
}

// TestForwardRejectUnreachableQuotesSyn: RejectUnreachable sends an ICMP
// destination unreachable with the caller's code, from the original
// destination, quoting the client's SYN (its sequence number included,
// which the client checks).
func TestForwardRejectUnreachableQuotesSyn(t *testing.T) {
	for _, tc := range []struct {
		src, dst  netip.Addr
		typ, code uint8
	}{{clientAddr.Addr(), farAddr, wire.ICMPv4DestUnreach, 1}, {client6A, farAddr6, wire.ICMPv6DestUnreach, 3}} {
		p := newForwardPeer(t, nil, Options{})
		reqs := newRequests()
		p.stack.Forward(nil, reqs.handle, ForwardOptions{})
		p.send(synTo(tc.src, tc.dst, 40002, 8080, 777))
		if err := reqs.next(t).RejectUnreachable(tc.code); err != nil {
			t.Fatal(err)
		}
		pkt := p.next()
		var m wire.ICMP
		var from netip.Addr
		if tc.src.Is4() {
			ip, _ := wire.ParseIPv4(pkt)
			from = ip.Src()
			m, _ = wire.ParseICMPv4(ip.Payload())
		} else {
			ip, _ := wire.ParseIPv6(pkt)
			from = ip.Src()
			var err error
			if m, err = wire.ParseICMPv6(ip.Src(), ip.Dst(), ip.Payload()); err != nil {
				t.Fatal(err)
			}
		}
		if m == nil || m.Type() != tc.typ || m.Code() != tc.code || from != tc.dst {
			t.Fatalf("got ICMP %v from %v", m, from)
		}
		body := m.Body()
		hl := wire.IPv4HeaderLen
		if !tc.src.Is4() {
			hl = wire.IPv6HeaderLen
		}
		inner := wire.TCP(body[hl:])
		if len(body) < hl+8 || inner.SrcPort() != 40002 || inner.DstPort() != 8080 || inner.Seq() != 777 {
			t.Fatalf("quoted segment %x", body)
		}
		p.quiet(50 * time.Millisecond)
	}
}

// TestForwardDropIsSilent: Drop sends nothing, and the SYN's
// retransmissions neither get an answer nor reach the handler again.
func TestForwardDropIsSilent(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	reqs := newRequests()
	p.stack.Forward(nil, reqs.handle, ForwardOptions{})
	p.send(synTo(p.addr, farAddr, 40003, 22, 1))
	if err := reqs.next(t).Drop(); err != nil {
		t.Fatal(err)
	}
	p.send(synTo(p.addr, farAddr, 40003, 22, 1))
	p.quiet(100 * time.Millisecond)
	if n := reqs.calls.Load(); n != 1 {
		t.Fatalf("handler called %d times", n)
	}
}

// TestForwardDeadlineRejectsAndCounts: on the simulated clock, a request
// no one decides is reset at the deadline, its Context ends with
// ErrForwardTimeout, a late decision fails, and it is counted.
func TestForwardDeadlineRejectsAndCounts(t *testing.T) {
	sim := clock.NewSim(time.Unix(1e9, 0))
	p := newForwardPeer(t, sim, Options{})
	reqs := newRequests()
	f, _ := p.stack.Forward(nil, reqs.handle, ForwardOptions{Timeout: 3 * time.Second})
	p.send(synTo(p.addr, farAddr, 40004, 443, 9))
	req := reqs.next(t)
	// The handler can run before the stack has armed the deadline's
	// timer; a simulated timer armed after the clock passed it would
	// wait for the next Advance. Advance only once it is armed.
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if _, armed := sim.Next(); armed {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the stack armed no timer for the request's deadline")
		}
	}
	sim.Advance(2 * time.Second)
	if req.Context().Err() != nil {
		t.Fatal("context ended before the deadline")
	}
	sim.Advance(time.Second)
	rst := tcpOf(t, p.next())
	if rst.Flags() != wire.FlagRST|wire.FlagACK || rst.Ack() != 10 {
		t.Fatalf("want RST at the deadline, got %v", rst.Flags())
	}
	<-req.Context().Done()
	if cause := context.Cause(req.Context()); !errors.Is(cause, ErrForwardTimeout) {
		t.Fatalf("cause %v", cause)
	}
	if _, err := req.Complete(context.Background()); err == nil {
		t.Fatal("Complete after the deadline succeeded")
	}
	if st := f.Stats(); st.Expired != 1 || st.PendingHalfOpen != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestForwardHandlerReturningRejects: a handler that returns without a
// decision does not leak the request's slot: the SYN gets a RST at once.
func TestForwardHandlerReturningRejects(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	f, _ := p.stack.Forward(nil, func(*ForwardRequest) {}, ForwardOptions{})
	p.send(synTo(p.addr, farAddr, 40005, 443, 9))
	if rst := tcpOf(t, p.next()); rst.Flags() != wire.FlagRST|wire.FlagACK {
		t.Fatalf("got %v", rst.Flags())
	}
	waitFor(t, time.Second, "slot freed", func() bool { return f.Stats().PendingHalfOpen == 0 })
}

// TestForwardPendingLimitsRefuseWithRst: past the per-source bound, and
// past the total bound with cookies off, SYNs get a RST and are counted.
func TestForwardPendingLimitsRefuseWithRst(t *testing.T) {
	p := newForwardPeer(t, nil, Options{TCP: tcp.Config{SynCookies: tcp.CookiesOff}})
	reqs := newRequests()
	f, _ := p.stack.Forward(nil, reqs.handle, ForwardOptions{MaxPending: 3, MaxPerSource: 2})
	p.send(synTo(p.addr, farAddr, 1, 443, 1))
	p.send(synTo(p.addr, farAddr, 2, 443, 1))
	reqs.next(t)
	reqs.next(t)
	p.send(synTo(p.addr, farAddr, 3, 443, 1)) // third from one source
	if rst := tcpOf(t, p.next()); rst.Flags()&wire.FlagRST == 0 || rst.DstPort() != 3 {
		t.Fatalf("per-source: got %v", rst.Flags())
	}
	other := netip.MustParseAddr("192.0.2.77")
	p.send(synTo(other, farAddr, 4, 443, 1))
	reqs.next(t)
	p.send(synTo(netip.MustParseAddr("192.0.2.78"), farAddr, 5, 443, 1)) // fourth in total
	if rst := tcpOf(t, p.next()); rst.Flags()&wire.FlagRST == 0 || rst.DstPort() != 5 {
		t.Fatalf("total: got %v", rst.Flags())
	}
	st := f.Stats()
	if st.RefusedPerSource != 1 || st.RefusedTotal != 1 || st.PendingHalfOpen != 3 {
		t.Fatalf("stats %+v", st)
	}
	if d := p.stack.Stats().Drops[tcp.DropForwardLimit]; d != 2 {
		t.Fatalf("ForwardLimit drops %d", d)
	}
}

// TestForwardOnlyCoveredPrefixes: a forwarder for one prefix leaves other
// foreign destinations dropped as not ours; the stack's own listeners
// keep their ports.
func TestForwardOnlyCoveredPrefixes(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	reqs := newRequests()
	p.stack.Forward([]netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, reqs.handle, ForwardOptions{})
	before := p.stack.Stats().Drops[tcp.DropNotForUs]
	p.send(synTo(p.addr, netip.MustParseAddr("198.51.100.1"), 7, 80, 1))
	waitFor(t, time.Second, "NotForUs drop", func() bool { return p.stack.Stats().Drops[tcp.DropNotForUs] == before+1 })
	l := listen(t, p.stack, ":80")
	defer l.Close()
	p.send(synTo(p.addr, serverAddr.Addr(), 8, 80, 1))
	if sa := tcpOf(t, p.next()); sa.Flags() != wire.FlagSYN|wire.FlagACK {
		t.Fatalf("listener did not answer: %v", sa.Flags())
	}
	if reqs.calls.Load() != 0 {
		t.Fatal("the forwarder saw traffic it does not cover")
	}
}

// TestForwardEcho: with Echo, pings to covered addresses are answered from
// them; with an EchoHandler they are handed over; otherwise dropped.
func TestForwardEcho(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	p.stack.Forward([]netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:ff::/48")}, func(r *ForwardRequest) {}, ForwardOptions{Echo: true})
	p.send(icmpPacket(p.addr, farAddr, wire.ICMPv4EchoRequest, 0, 0x1234_0001, []byte("ping")))
	ip, _ := wire.ParseIPv4(p.next())
	m, _ := wire.ParseICMPv4(ip.Payload())
	if ip.Src() != farAddr || m.Type() != wire.ICMPv4EchoReply || m.RestOfHeader() != 0x1234_0001 || string(m.Body()) != "ping" {
		t.Fatalf("echo reply from %v: %v", ip.Src(), m)
	}
	p.send(icmpPacket(client6A, farAddr6, wire.ICMPv6EchoRequest, 0, 7, []byte("p6")))
	ip6, _ := wire.ParseIPv6(p.next())
	m6, err := wire.ParseICMPv6(ip6.Src(), ip6.Dst(), ip6.Payload())
	if err != nil || ip6.Src() != farAddr6 || m6.Type() != wire.ICMPv6EchoReply {
		t.Fatalf("echo6 reply %v %v", m6, err)
	}

	q := newForwardPeer(t, nil, Options{})
	handed := make(chan *EchoRequest, 1)
	q.stack.Forward(nil, func(r *ForwardRequest) {}, ForwardOptions{EchoHandler: func(e *EchoRequest) { handed <- e }})
	q.send(icmpPacket(q.addr, farAddr, wire.ICMPv4EchoRequest, 0, 5, []byte("x")))
	e := <-handed
	if e.Dst != farAddr || string(e.Data) != "x" {
		t.Fatalf("handed %+v", e)
	}
	e.Reply()
	ip, _ = wire.ParseIPv4(q.next())
	if ip.Src() != farAddr {
		t.Fatalf("handler's reply from %v", ip.Src())
	}

	r := newForwardPeer(t, nil, Options{})
	r.stack.Forward(nil, func(r *ForwardRequest) {}, ForwardOptions{})
	r.send(icmpPacket(r.addr, farAddr, wire.ICMPv4EchoRequest, 0, 5, []byte("x")))
	r.quiet(50 * time.Millisecond)
}

// TestDialerSpoofedSource: with Options.Spoofing a Dialer connects from
// an address the stack does not own and accepts the reply; without it the
// same dial is EADDRNOTAVAIL.
func TestDialerSpoofedSource(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	d := &Dialer{Stack: p.stack, LocalAddr: netip.AddrPortFrom(farAddr, 80)}
	if _, err := d.Dial("tcp", "192.0.2.1:5000"); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("spoofed dial without Spoofing: %v", err)
	}

	p = newForwardPeer(t, nil, Options{Spoofing: true})
	d = &Dialer{Stack: p.stack, LocalAddr: netip.AddrPortFrom(farAddr, 80), Timeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		c, err := d.Dial("tcp", "192.0.2.1:5000")
		if err == nil && c.LocalAddr().String() != "203.0.113.9:80" {
			err = errors.New("LocalAddr " + c.LocalAddr().String())
		}
		done <- err
	}()
	pkt := p.next()
	ip, _ := wire.ParseIPv4(pkt)
	syn := tcpOf(t, pkt)
	if ip.Src() != farAddr || syn.SrcPort() != 80 || syn.Flags() != wire.FlagSYN {
		t.Fatalf("SYN from %v:%d %v", ip.Src(), syn.SrcPort(), syn.Flags())
	}
	p.send(tcpPacket(p.addr, farAddr, wire.TCPFields{SrcPort: 5000, DstPort: 80, Seq: 100, Ack: syn.Seq() + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535}, &wire.Options{HasMSS: true, MSS: 1460}, nil))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDialerOptionsReachTheSyn: the receive buffer sizes the SYN's window
// and Control runs before the SYN is sent.
func TestDialerOptionsReachTheSyn(t *testing.T) {
	p := newForwardPeer(t, nil, Options{})
	var controlled atomic.Bool
	d := &Dialer{Stack: p.stack, RecvBuffer: 8192, Nonblock: true, Control: func(network, address string, nc net.Conn) error {
		if c, ok := nc.(*Conn); !ok || c.State() != tcp.SynSent {
			return errors.New("not in SYN-SENT")
		}
		controlled.Store(true)
		return nil
	}}
	c, err := d.Dial("tcp4", "192.0.2.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	syn := tcpOf(t, p.next())
	if !controlled.Load() || syn.Window() != 8192 {
		t.Fatalf("control ran %v, window %d", controlled.Load(), syn.Window())
	}
	refuse := &Dialer{Stack: p.stack, Nonblock: true, Control: func(string, string, net.Conn) error { return syscall.EPERM }}
	if _, err := refuse.Dial("tcp4", "192.0.2.1:5002"); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Control's error: %v", err)
	}
}

// TestAddressesAndRoutesAtRunTime: an address added at run time takes
// connections; one removed no longer does; without a route a dial is
// ENETUNREACH, and a route's source hint picks the source.
func TestAddressesAndRoutesAtRunTime(t *testing.T) {
	p := newForwardPeer(t, nil, Options{Routes: []Route{}})
	s := p.stack
	if _, err := s.Dial("tcp", "203.0.113.1:80"); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("dial with no route: %v", err)
	}
	added := netip.MustParsePrefix("198.51.100.7/32")
	if err := s.AddAddress(added); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(added); !errors.Is(err, ErrAddressExists) {
		t.Fatalf("second AddAddress: %v", err)
	}
	if err := s.AddRoute(Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Src: added.Addr()}); err != nil {
		t.Fatal(err)
	}
	nc, err := (&Dialer{Stack: s, Nonblock: true}).Dial("tcp", "203.0.113.1:80")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	ip, _ := wire.ParseIPv4(p.next())
	if ip.Src() != added.Addr() || c.LocalAddr().(*net.TCPAddr).AddrPort().Addr() != added.Addr() {
		t.Fatalf("source %v, want the route's %v", ip.Src(), added.Addr())
	}
	c.SetLinger(0)
	c.Close()
	l := listen(t, s, ":81")
	defer l.Close()
	p.send(synTo(p.addr, added.Addr(), 9, 81, 1))
	if sa := tcpOf(t, p.next()); sa.Flags() != wire.FlagSYN|wire.FlagACK {
		t.Fatalf("added address: %v", sa.Flags())
	}
	if err := s.RemoveAddress(added.Addr()); err != nil {
		t.Fatal(err)
	}
	p.send(synTo(p.addr, added.Addr(), 10, 81, 1))
	p.quiet(50 * time.Millisecond)
	if err := s.RemoveRoute(netip.MustParsePrefix("0.0.0.0/0")); err != nil || len(s.Routes()) != 0 {
		t.Fatalf("RemoveRoute: %v, %v", err, s.Routes())
	}
}

// TestForwardTimeWaitGivesWayToNewSyn: a forwarded connection the proxy
// closed first sits in TIME-WAIT; a new SYN on the same 4-tuple with a
// higher sequence number reopens it (RFC 9293 §3.10.7.4) as a new request.
func TestForwardTimeWaitGivesWayToNewSyn(t *testing.T) {
	p := newForwardPeer(t, nil, Options{TCP: tcp.Config{NoTimestamps: true}})
	reqs := newRequests()
	p.stack.Forward(nil, reqs.handle, ForwardOptions{})
	seg := func(seq, ack uint32, flags wire.Flags) []byte {
		return tcpPacket(p.addr, farAddr, wire.TCPFields{SrcPort: 40100, DstPort: 80, Seq: seq, Ack: ack, Flags: flags, Window: 65535}, &wire.Options{}, nil)
	}
	p.send(synTo(p.addr, farAddr, 40100, 80, 1000))
	req := reqs.next(t)
	done := make(chan *Conn, 1)
	go func() {
		c, err := req.Complete(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	iss := tcpOf(t, p.next()).Seq()
	p.send(seg(1001, iss+1, wire.FlagACK))
	c := <-done
	if c == nil {
		return
	}
	c.Close()
	if fin := tcpOf(t, p.next()); fin.Flags()&wire.FlagFIN == 0 {
		t.Fatalf("want our FIN, got %v", fin.Flags())
	}
	p.send(seg(1001, iss+2, wire.FlagFIN|wire.FlagACK))
	if ack := tcpOf(t, p.next()); ack.Flags() != wire.FlagACK || ack.Ack() != 1002 {
		t.Fatalf("want the ACK of the peer's FIN, got %v", ack.Flags())
	}
	waitFor(t, time.Second, "TIME-WAIT", func() bool { return c.State() == tcp.TimeWait })
	p.send(synTo(p.addr, farAddr, 40100, 80, 900000))
	req2 := reqs.next(t)
	if req2.Source() != req.Source() || req2.r.SYN.Seq != 900000 {
		t.Fatalf("second request %v seq %d", req2.Source(), req2.r.SYN.Seq)
	}
	req2.Reject()
}
