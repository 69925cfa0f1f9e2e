package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/host"
)

// EchoRequest is an ICMP or ICMPv6 echo request to an address a
// forwarder covers, handed to its EchoHandler.
type EchoRequest struct {
	s        *Stack
	Src, Dst netip.Addr
	// Rest is the header's rest (identifier and sequence number); Data
	// the payload, the handler's to keep.
	Rest uint32
	Data []byte
}

// Reply sends the echo reply from Dst, as the destination would
// (RFC 792; RFC 4443 §4.2). After Stack.Close it is ErrStackClosed.
func (e *EchoRequest) Reply() error {
	s := e.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrStackClosed
	}
	s.host.EchoReply(e.Src, e.Dst, e.Rest, e.Data)
	s.queueOutput()
	s.unlock()
	return nil
}

// echo runs the forwarder's EchoHandler on an echo request the host
// handed out. Called with the stack lock held.
func (f *Forwarder) echo(he *host.Echo) {
	e := &EchoRequest{s: f.s, Src: he.Src, Dst: he.Dst, Rest: he.Rest, Data: he.Data}
	go func() {
		defer func() {
			f.s.mu.Lock()
			f.hf.EchoDone()
			f.s.mu.Unlock()
		}()
		f.opts.EchoHandler(e)
	}()
}
