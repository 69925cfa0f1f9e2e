package host

import "github.com/threeway-tcp/threeway/tcp"

// EventKind says which object an Event is about.
type EventKind uint8

// Event kinds.
const (
	ConnEvent     EventKind = iota // Conn's Bits happened
	NewConnEvent                   // a listener made Conn from a SYN
	AcceptEvent                    // Listener has a connection to accept
	ReadableEvent                  // Socket has a datagram or an error
	NewFlowEvent                   // Socket is a new forwarded UDP flow with its first datagram
	RequestEvent                   // Forwarder got a SYN to decide (Request)
	RequestEnded                   // Request is over without a decision (Cause)
	EchoEvent                      // Forwarder got an echo request for its handler (Echo)
)

// Event is something a user of the host may be waiting for.
type Event struct {
	Kind      EventKind
	Bits      tcp.Events // ConnEvent: what happened
	Retired   bool       // ConnEvent: the connection is closed and forgotten
	Conn      *Conn
	Listener  *Listener
	Socket    *Socket
	Forwarder *Forwarder
	Request   *tcp.Request
	Cause     EndCause
	Echo      *Echo
}

// EndCause says why a forward request ended undecided.
type EndCause uint8

// Causes.
const (
	EndTimeout        EndCause = iota + 1 // its decision deadline passed
	EndClientReset                        // the client reset it
	EndForwarderClose                     // its forwarder closed
)

// Events returns the events since the last call. The slice is the
// host's, valid until the next call.
func (h *Host) Events() []Event {
	ev := h.events
	clear(h.spare)
	h.events, h.spare = h.spare[:0], ev
	return ev
}

func (h *Host) emit(e Event) { h.events = append(h.events, e) }
