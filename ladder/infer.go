package ladder

import (
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// endState is what the packets say about one end of a connection: the
// state it must be in, and the sequence numbers that move it on. It
// follows RFC 9293 §3.10.7's event processing, seeing only what crossed
// the wire: a segment sent shows the state its sender was in; a segment
// received (assumed received: the observer saw it go by) moves its
// receiver as the RFC says it would.
type endState struct {
	st      tcp.State
	passive bool   // opened by LISTEN, not by sending a SYN
	iss     uint32 // our SYN's sequence number
	synSent bool
	fin     uint32 // sequence number just past our FIN
	finSent bool
}

// change is one inferred transition.
type change struct{ from, to tcp.State }

func (e *endState) move(to tcp.State, out []change) []change {
	if e.st == to {
		return out
	}
	out = append(out, change{e.st, to})
	e.st = to
	return out
}

// acks reports whether ack acknowledges everything up to v.
func acks(ack, v uint32) bool { return int32(ack-v) >= 0 }

// sent applies what sending s says about its sender.
func (e *endState) sent(s *Seg) []change {
	var out []change
	f := s.Flags
	if f&wire.FlagRST != 0 {
		return e.move(tcp.Closed, out)
	}
	if f&wire.FlagSYN != 0 && !e.synSent {
		e.synSent, e.iss = true, s.Seq
		switch {
		case f&wire.FlagACK == 0 && (e.st == tcp.Closed || e.st == tcp.Listen):
			out = e.move(tcp.SynSent, out) // RFC 9293 §3.10.1: OPEN sends a SYN
		case f&wire.FlagACK != 0 && e.st == tcp.Listen:
			// The SYN it answers was not seen; answering shows it was
			// received (§3.10.7.2).
			e.passive = true
			out = e.move(tcp.SynReceived, out)
		}
	}
	if f&wire.FlagFIN != 0 && !e.finSent {
		e.finSent, e.fin = true, s.Seq+s.SeqLen()
		// RFC 9293 §3.10.4: CLOSE sends a FIN.
		switch e.st {
		case tcp.Established, tcp.SynReceived:
			out = e.move(tcp.FinWait1, out)
		case tcp.CloseWait:
			out = e.move(tcp.LastAck, out)
		}
	}
	return out
}

// received applies what receiving s does to the end (RFC 9293 §3.10.7).
func (e *endState) received(s *Seg) []change {
	var out []change
	f := s.Flags
	if f&wire.FlagRST != 0 {
		// §3.10.7.4: a reset in SYN-RECEIVED from a passive open goes
		// back to LISTEN; everywhere else the connection is gone.
		switch {
		case e.st == tcp.Listen:
		case e.st == tcp.SynReceived && e.passive:
			out = e.move(tcp.Listen, out)
		default:
			out = e.move(tcp.Closed, out)
		}
		return out
	}
	if f&wire.FlagSYN != 0 {
		switch {
		case e.st == tcp.Listen && f&wire.FlagACK == 0:
			e.passive = true
			return e.move(tcp.SynReceived, out) // §3.10.7.2
		case e.st == tcp.SynSent && f&wire.FlagACK != 0 && acks(s.Ack, e.iss+1):
			return e.move(tcp.Established, out) // §3.10.7.3
		case e.st == tcp.SynSent && f&wire.FlagACK == 0:
			return e.move(tcp.SynReceived, out) // simultaneous open
		}
	}
	if f&wire.FlagACK != 0 {
		switch {
		case e.st == tcp.SynReceived && e.synSent && acks(s.Ack, e.iss+1):
			out = e.move(tcp.Established, out)
		case e.finSent && acks(s.Ack, e.fin):
			switch e.st {
			case tcp.FinWait1:
				out = e.move(tcp.FinWait2, out)
			case tcp.Closing:
				out = e.move(tcp.TimeWait, out)
			case tcp.LastAck:
				out = e.move(tcp.Closed, out)
			}
		}
	}
	if f&wire.FlagFIN != 0 {
		switch e.st { // §3.10.7.4, eighth: check the FIN bit
		case tcp.SynReceived, tcp.Established:
			out = e.move(tcp.CloseWait, out)
		case tcp.FinWait1:
			out = e.move(tcp.Closing, out)
		case tcp.FinWait2:
			out = e.move(tcp.TimeWait, out)
		}
	}
	return out
}
