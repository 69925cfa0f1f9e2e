package threeway

import (
	"errors"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// ErrFlowIdle is returned by reads on a forwarded UDP flow that its
// forwarder ended after its idle timeout.
var ErrFlowIdle = errors.New("threeway: UDP flow idle timeout")

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
	s     *Stack
	cfg   UDPForwarderConfig
	flows map[udpFlowKey]*UDPConn // guarded by the stack lock
}

type udpFlowKey struct{ local, remote netip.AddrPort }

// udpFlow is a forwarded flow's bookkeeping, guarded by the stack lock.
type udpFlow struct {
	fwd        *UDPForwarder
	key        udpFlowKey
	lastActive time.Duration
	expired    bool
	timer      clock.Timer
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
	cfg.Prefixes = append([]netip.Prefix(nil), cfg.Prefixes...)
	f := &UDPForwarder{s: s, cfg: cfg, flows: make(map[udpFlowKey]*UDPConn)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStackClosed
	}
	s.udp.fwd = append(s.udp.fwd, f)
	return f, nil
}

// udpForwarderFor returns the forwarder covering dst, if any.
func (s *Stack) udpForwarderFor(dst netip.Addr) *UDPForwarder {
	for _, f := range s.udp.fwd {
		for _, p := range f.cfg.Prefixes {
			if p.Contains(dst) {
				return f
			}
		}
	}
	return nil
}

// udpForwarded reports whether a forwarder covers dst, which then counts
// as an address of the stack for UDP.
func (s *Stack) udpForwarded(dst netip.Addr) bool {
	return len(s.udp.fwd) > 0 && s.udpForwarderFor(dst) != nil
}

// inputLocked queues a datagram on its flow, opening the flow first if
// it is new.
func (f *UDPForwarder) inputLocked(now time.Duration, from, to netip.AddrPort, p []byte) {
	s := f.s
	key := udpFlowKey{local: to, remote: from}
	c := f.flows[key]
	if c == nil {
		if len(f.flows) >= f.cfg.MaxFlows {
			s.udpDrop(tcp.DropFlowLimit)
			return
		}
		network := "udp4"
		if !to.Addr().Is4() {
			network = "udp6"
		}
		c = s.newUDPConn(network, to, from)
		fl := &udpFlow{fwd: f, key: key, lastActive: now}
		c.flow = fl
		f.flows[key] = c
		fl.timer = s.clk.AfterFunc(f.cfg.IdleTimeout, func() { f.checkIdle(c) })
		go f.cfg.Handler(c)
	}
	c.deliverLocked(now, from, p)
}

// checkIdle ends c if it has been idle for the timeout, else looks again
// when it could be.
func (f *UDPForwarder) checkIdle(c *UDPConn) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	fl := c.flow
	if fl.expired {
		return
	}
	if left := fl.lastActive + f.cfg.IdleTimeout - s.now(); left > 0 && !s.closed {
		fl.timer.Reset(left)
		return
	}
	f.removeLocked(c)
}

// removeLocked ends a flow: its reads return ErrFlowIdle once drained,
// and a new datagram on its 4-tuple opens a new flow.
func (f *UDPForwarder) removeLocked(c *UDPConn) {
	fl := c.flow
	if fl.expired {
		return
	}
	fl.expired = true
	if f.flows[fl.key] == c {
		delete(f.flows, fl.key)
	}
	fl.timer.Stop()
	notify(c.rwait)
}

// Flows returns the number of live flows.
func (f *UDPForwarder) Flows() int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return len(f.flows)
}

// Close stops forwarding and ends every flow.
func (f *UDPForwarder) Close() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, g := range s.udp.fwd {
		if g == f {
			s.udp.fwd = append(s.udp.fwd[:i:i], s.udp.fwd[i+1:]...)
			break
		}
	}
	for _, c := range f.flows {
		f.removeLocked(c)
	}
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
	client, dst := c.remote, c.local
	quote := make([]byte, wire.IPv6HeaderLen+wire.UDPHeaderLen)
	ipLen := wire.IPv6HeaderLen
	if dst.Addr().Is4() {
		ipLen = wire.IPv4HeaderLen
	}
	wire.EncodeUDP(quote[ipLen:], client.Addr(), dst.Addr(), client.Port(), dst.Port(), nil)
	if ipLen == wire.IPv4HeaderLen {
		wire.EncodeIPv4(quote, &wire.IPv4Fields{Src: client.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoUDP, TTL: 64, PayloadLen: wire.UDPHeaderLen})
	} else {
		wire.EncodeIPv6(quote, &wire.IPv6Fields{Src: client.Addr(), Dst: dst.Addr(), NextHeader: wire.ProtoUDP, HopLimit: 64, PayloadLen: wire.UDPHeaderLen})
	}
	quote = quote[:ipLen+wire.UDPHeaderLen]
	s.holdClock()
	defer s.releaseClock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.icmpLimit.allow(s.now()) {
		return
	}
	if dst.Addr().Is4() {
		s.sendICMP(dst.Addr(), client.Addr(), wire.ICMPv4DestUnreach, wire.ICMPv4PortUnreach, 0, quote)
	} else {
		s.sendICMP(dst.Addr(), client.Addr(), wire.ICMPv6DestUnreach, wire.ICMPv6PortUnreach, 0, quote)
	}
	s.writeBatch()
}
