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
//
// The entry points follow package net. Stack.Listen and Stack.ListenPacket
// take a network and an "ip:port" address; Stack.Dial and Stack.DialContext
// connect with the default options, and a Dialer sets them (local address,
// timeout, buffer sizes, keep-alive, Nagle, a Control hook, Fast Open,
// congestion control, and Nonblock for a connect() that does not wait).
// The interfaces they return hold a *Conn, *Listener or *UDPConn; assert
// the type for the methods beyond net's. ListenTCP, ListenUDP and DialUDP
// have net's signatures. After Stack.Close each of them fails with
// ErrStackClosed, which is net.ErrClosed.
package threeway
