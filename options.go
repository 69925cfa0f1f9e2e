package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// Options configure a Stack. Zero fields take defaults.
type Options struct {
	// Link carries the stack's IP packets. Required.
	Link link.Link
	// Addrs are the stack's addresses with their prefixes, IPv4 and/or
	// IPv6, e.g. 192.0.2.2/24.
	Addrs []netip.Prefix
	// Clock is the time source (default clock.Real). Tests pass a
	// *clock.Sim to run whole conversations on simulated time.
	Clock clock.Clock
	// TCP tunes every connection: buffer sizes, retry limits, MSL, which
	// options to offer. Its MTU is taken from the link.
	TCP tcp.Config
	// ISNSecret keys initial sequence numbers (RFC 6528) and ephemeral
	// port choice. Nil draws a random secret; tests fix it to replay a
	// conversation exactly.
	ISNSecret *[16]byte
	// Routes is the route table (see Route); nil gives a default route
	// for each family, so any destination is reachable from the stack's
	// first address of its family. Stack.AddRoute changes it at run time.
	Routes []Route
	// Spoofing lets a Dialer connect from a local address the stack
	// does not own (gVisor's spoofing), as a transparent proxy answering
	// as the original server must. Replies to such a connection are
	// accepted while it lives.
	Spoofing bool
	// Tracer, if set, sees every segment, state change and drop.
	Tracer Tracer
}

// Direction tells a Tracer which way a segment went.
type Direction = host.Direction

// Directions.
const (
	Inbound  = host.Inbound
	Outbound = host.Outbound
)

// Tracer hears about everything the stack does: segments, state changes,
// drops (host.Tracer). Calls are made with the stack's lock held: a
// Tracer must not call back into the stack. One that also implements
// host.ICMPTracer hears about the ICMP messages the stack sends.
type Tracer = host.Tracer
