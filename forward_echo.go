package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/wire"
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
	defer s.mu.Unlock()
	if s.closed {
		return ErrStackClosed
	}
	typ := uint8(wire.ICMPv4EchoReply)
	if !e.Dst.Is4() {
		typ = wire.ICMPv6EchoReply
	}
	s.sendICMP(e.Dst, e.Src, typ, 0, e.Rest, e.Data)
	s.writeBatch()
	return nil
}

// forwardEcho handles an echo request to an address the stack does not
// own. It reports whether the request was for a forwarder (answered,
// handed over or dropped by it).
func (s *Stack) forwardEcho(src, dst netip.Addr, rest uint32, body []byte) bool {
	f := s.forwarderFor(dst)
	if f == nil {
		return false
	}
	switch {
	case f.opts.EchoHandler != nil:
		limit := f.opts.MaxPending
		if limit <= 0 {
			limit = 1024
		}
		if f.echoes.Add(1) > int32(limit) {
			f.echoes.Add(-1)
			f.echoStat.Dropped++
			return true
		}
		f.echoStat.Handed++
		e := &EchoRequest{s: s, Src: src, Dst: dst, Rest: rest, Data: append([]byte(nil), body...)}
		go func() {
			defer f.echoes.Add(-1)
			f.opts.EchoHandler(e)
		}()
	case f.opts.Echo:
		f.echoStat.Answered++
		typ := uint8(wire.ICMPv4EchoReply)
		if !dst.Is4() {
			typ = wire.ICMPv6EchoReply
		}
		s.sendICMP(dst, src, typ, 0, rest, body)
	default:
		f.echoStat.Dropped++
	}
	return true
}
