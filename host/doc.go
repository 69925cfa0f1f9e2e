// Package host is threeway's sans-I/O IP host: the layer between the
// wire formats and the TCP core. One Host owns the TCP connection table,
// the listeners, ephemeral ports, the transparent-forwarding demux, UDP
// and ICMP echo sockets, IPv4/IPv6/ICMP parsing and generation, the
// no-connection RST, TIME-WAIT reopen, every connection's timer and every
// counter and drop reason.
//
// A Host has no goroutines, locks, clock reads or I/O. Inbound packets
// and the current time go in (Input, Advance); outbound packets
// (TakeOutput), user events (Events) and the next deadline (Deadline)
// come out. The caller, threeway's runtime, serializes calls, reads the
// clock and the link, and wakes its blocked callers from the events:
//
//	link -> wire -> host -> tcp -> (events, packets) -> runtime -> user
//
// No layer calls back up: the core returns segments and events to the
// host, the host returns packets and events to the runtime. Every object
// the host hands out (Conn, Listener, Socket, Forwarder) carries a User
// field the runtime sets to its wrapper, so an event finds its wrapper
// without a lookup.
package host
