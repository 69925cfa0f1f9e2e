package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
)

// handleEvents wakes the callers waiting on what the host reports, makes
// wrappers for what it created and starts handlers. Called with the lock
// held after every host call that can produce events.
func (s *Stack) handleEvents() {
	for _, e := range s.host.Events() {
		switch e.Kind {
		case host.NewConnEvent:
			s.wrap(e.Conn)
		case host.ConnEvent:
			c, _ := e.Conn.User.(*Conn)
			if c == nil {
				continue
			}
			ev := e.Bits
			if ev&(tcp.EvReadable|tcp.EvError|tcp.EvClosed|tcp.EvEstablished) != 0 || e.Retired {
				notify(c.rwait)
			}
			if ev&(tcp.EvWritable|tcp.EvError|tcp.EvClosed|tcp.EvEstablished) != 0 || e.Retired {
				notify(c.wwait)
			}
		case host.AcceptEvent:
			if l, _ := e.Listener.User.(*Listener); l != nil {
				notify(l.ready)
			}
		case host.ReadableEvent:
			switch w := e.Socket.User.(type) {
			case *UDPConn:
				notify(w.rwait)
			case *PingConn:
				notify(w.rwait)
			}
		case host.NewFlowEvent:
			if f, _ := e.Socket.Forwarder().User.(*UDPForwarder); f != nil {
				f.startFlow(e.Socket)
			}
		case host.RequestEvent:
			if f, _ := e.Forwarder.User.(*Forwarder); f != nil {
				f.request(e.Request, e.Conn)
			}
		case host.RequestEnded:
			if req, ok := e.Request.Owner.(*ForwardRequest); ok {
				req.cancel(endCause(e.Cause))
			}
		case host.EchoEvent:
			if f, _ := e.Forwarder.User.(*Forwarder); f != nil {
				f.echo(e.Echo)
			}
		}
	}
}

// wrap makes the runtime's Conn for a host connection.
func (s *Stack) wrap(hc *host.Conn) *Conn {
	tcb := hc.TCB()
	c := &Conn{
		s: s, hc: hc, tcb: tcb, tuple: tcb.Tuple(),
		deadlines: deadlines{done: s.done, rwait: make(chan struct{}, 1), wwait: make(chan struct{}, 1)},
	}
	hc.User = c
	return c
}

func (s *Stack) sourceFor(dst netip.Addr) (netip.Addr, bool) { return s.host.SourceFor(dst) }

func (s *Stack) isLocal(a netip.Addr) bool { return s.host.IsLocal(a) }
