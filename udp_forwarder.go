package threeway

import (
	"errors"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
)

// ErrFlowIdle is returned by reads on a forwarded UDP flow that its
// forwarder ended after its idle timeout.
var ErrFlowIdle = host.ErrFlowIdle

// Forwarder defaults. RFC 4787 REQ-5: a UDP mapping must not expire in
// less than two minutes.
const (
	DefaultUDPIdleTimeout = 2 * time.Minute
	defaultUDPMaxFlows    = 4096
)

// UDPForwarderConfig configures a UDPForwarder.
type UDPForwarderConfig struct {
	// Prefixes are the destinations covered: datagrams to them that no
	// socket takes become flows. Required.
	Prefixes []netip.Prefix
	// Handler is called in a goroutine of its own for each new flow,
	// with the flow's first datagram already queued. Required.
	Handler func(flow *UDPConn)
	// IdleTimeout ends a flow that has carried nothing either way for
	// that long (default DefaultUDPIdleTimeout).
	IdleTimeout time.Duration
	// MaxFlows bounds the live flows (default 4096); datagrams that would
	// open one more are dropped and counted (DropFlowLimit).
	MaxFlows int
}

// UDPForwarder turns datagrams to covered destinations into flows, one
// per 4-tuple, each a connected *UDPConn whose LocalAddr is the
// destination the client sent to and whose writes come from it: the UDP
// half of a transparent proxy.
type UDPForwarder struct {
	s   *Stack
	cfg UDPForwarderConfig
	hf  *host.UDPForwarder // guarded by the stack lock
}

// udpFlow is a forwarded flow's idle timer; the host keeps its activity.
type udpFlow struct {
	fwd   *UDPForwarder
	timer clock.Timer
}

func (fl *udpFlow) stop() {
	if fl.timer != nil {
		fl.timer.Stop()
	}
}

// ForwardUDP starts forwarding datagrams to cfg.Prefixes.
func (s *Stack) ForwardUDP(cfg UDPForwarderConfig) (*UDPForwarder, error) {
	if len(cfg.Prefixes) == 0 || cfg.Handler == nil {
		return nil, errors.New("threeway: UDPForwarderConfig needs Prefixes and a Handler")
	}
	for _, p := range cfg.Prefixes {
		if !p.IsValid() {
			return nil, errors.New("threeway: invalid prefix " + p.String())
		}
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultUDPIdleTimeout
	}
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = defaultUDPMaxFlows
	}
	f := &UDPForwarder{s: s, cfg: cfg}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStackClosed
	}
	f.hf = s.host.ForwardUDP(cfg.Prefixes, cfg.MaxFlows)
	f.hf.User = f
	return f, nil
}

// startFlow wraps a new flow the host opened, starts its idle timer and
// its handler. Called with the stack lock held.
func (f *UDPForwarder) startFlow(hs *host.Socket) {
	s := f.s
	network := "udp4"
	if !hs.Local().Addr().Is4() {
		network = "udp6"
	}
	c := s.wrapUDP(network, hs)
	fl := &udpFlow{fwd: f}
	c.flow = fl
	fl.timer = s.clk.AfterFunc(f.cfg.IdleTimeout, func() { f.checkIdle(c) })
	go f.cfg.Handler(c)
}

// checkIdle ends c if it has been idle for the timeout, else looks again
// when it could be.
func (f *UDPForwarder) checkIdle(c *UDPConn) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.hs.Idle() {
		return
	}
	if left := s.host.FlowIdleLeft(s.now(), c.hs, f.cfg.IdleTimeout); left > 0 && !s.closed {
		c.flow.timer.Reset(left)
		return
	}
	s.host.EndFlow(c.hs)
	s.handleEvents()
}

// Flows returns the number of live flows.
func (f *UDPForwarder) Flows() int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.hf.Flows()
}

// Close stops forwarding and ends every flow.
func (f *UDPForwarder) Close() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host.CloseUDPForwarder(f.hf)
	s.handleEvents()
	return nil
}

// SendUnreachable answers a forwarded flow's client with ICMP port
// unreachable from the flow's destination, quoting a datagram of the flow
// (RFC 792; RFC 4443 §3.1, code 4), within the stack's ICMP rate limit:
// how a relay passes on the port unreachable its upstream got. The
// client's connected socket then reports ECONNREFUSED. For sockets that
// are not forwarded flows it does nothing.
func (c *UDPConn) SendUnreachable() {
	if c.flow == nil {
		return
	}
	s := c.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.host.SendUnreachableFor(s.now(), c.hs)
	s.queueOutput()
	s.unlock()
}
