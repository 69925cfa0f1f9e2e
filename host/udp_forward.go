package host

import (
	"errors"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

// ErrFlowIdle is the error of a forwarded UDP flow its forwarder ended
// after its idle timeout.
var ErrFlowIdle = errors.New("threeway: UDP flow idle timeout")

// UDPForwarder turns datagrams to covered destinations into flows, one
// per 4-tuple: the UDP half of a transparent proxy.
type UDPForwarder struct {
	User     any
	prefixes []netip.Prefix
	maxFlows int
	flows    map[flowKey]*Socket
}

type flowKey struct{ local, remote netip.AddrPort }

// flow is a forwarded flow's bookkeeping.
type flow struct {
	fwd        *UDPForwarder
	key        flowKey
	lastActive time.Duration
	expired    bool
}

// ForwardUDP starts forwarding datagrams to prefixes, at most maxFlows
// flows at once.
func (h *Host) ForwardUDP(prefixes []netip.Prefix, maxFlows int) *UDPForwarder {
	f := &UDPForwarder{prefixes: append([]netip.Prefix(nil), prefixes...), maxFlows: maxFlows, flows: make(map[flowKey]*Socket)}
	h.udp.fwd = append(h.udp.fwd, f)
	return f
}

// Flows returns the number of live flows.
func (f *UDPForwarder) Flows() int { return len(f.flows) }

// udpForwarderFor returns the forwarder covering dst, if any.
func (h *Host) udpForwarderFor(dst netip.Addr) *UDPForwarder {
	for _, f := range h.udp.fwd {
		for _, p := range f.prefixes {
			if p.Contains(dst) {
				return f
			}
		}
	}
	return nil
}

// udpForwarded reports whether a forwarder covers dst, which then counts
// as an address of the host for UDP.
func (h *Host) udpForwarded(dst netip.Addr) bool {
	return len(h.udp.fwd) > 0 && h.udpForwarderFor(dst) != nil
}

// flowInput queues a datagram on its flow, opening the flow first if it
// is new (a NewFlowEvent).
func (h *Host) flowInput(now time.Duration, f *UDPForwarder, from, to netip.AddrPort, p []byte) {
	key := flowKey{local: to, remote: from}
	s := f.flows[key]
	if s == nil {
		if len(f.flows) >= f.maxFlows {
			h.udpDrop(tcp.DropFlowLimit)
			return
		}
		s = newSocket(to, from)
		s.flow = &flow{fwd: f, key: key, lastActive: now}
		f.flows[key] = s
		h.emit(Event{Kind: NewFlowEvent, Socket: s})
	}
	h.deliver(now, s, from, p)
}

// FlowIdleLeft returns how long until a flow has been idle for timeout;
// zero or less means it has, and EndFlow should end it.
func (h *Host) FlowIdleLeft(now time.Duration, s *Socket, timeout time.Duration) time.Duration {
	if s.flow == nil || s.flow.expired {
		return 0
	}
	return s.flow.lastActive + timeout - now
}

// EndFlow ends a forwarded flow: its reads return ErrFlowIdle once
// drained, and a new datagram on its 4-tuple opens a new flow.
func (h *Host) EndFlow(s *Socket) { h.endFlow(s) }

func (h *Host) endFlow(s *Socket) {
	fl := s.flow
	if fl == nil || fl.expired {
		return
	}
	fl.expired = true
	if fl.fwd.flows[fl.key] == s {
		delete(fl.fwd.flows, fl.key)
	}
	h.emit(Event{Kind: ReadableEvent, Socket: s})
}

// CloseUDPForwarder stops forwarding and ends every flow.
func (h *Host) CloseUDPForwarder(f *UDPForwarder) {
	for i, g := range h.udp.fwd {
		if g == f {
			h.udp.fwd = append(h.udp.fwd[:i:i], h.udp.fwd[i+1:]...)
			break
		}
	}
	for _, s := range f.flows {
		h.endFlow(s)
	}
}
