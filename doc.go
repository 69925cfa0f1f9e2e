// Package threeway is a userspace TCP/IP stack: a Stack owns one link
// (an in-memory pipe, a TUN device, ...) and gives Go programs the
// net.Listener, net.Conn and net.PacketConn they already know.
//
// A packet goes up through layers that never call back down or up:
//
//	link -> wire -> host -> tcp -> runtime -> user
//
// The link (package link) moves IP packets. Package wire parses them
// into views. Package host, sans-I/O, demultiplexes them to connections,
// listeners, forwarders and UDP and echo sockets, answers what matches
// nothing, runs ICMP and every timer, counts every drop and builds the
// packets to send. Package tcp, sans-I/O, is each connection's protocol.
// This package, the runtime, is the thin layer around the host: one
// goroutine feeds it the link and the clock under one lock, the host's
// events wake blocked callers, and the packets it built are written to
// the link after the lock is released. A connection costs no goroutine of
// its own.
package threeway
