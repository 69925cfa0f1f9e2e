// Package threeway is a userspace TCP/IP stack: a Stack owns one link
// (an in-memory pipe, a TUN device, ...) and gives Go programs the
// net.Listener and net.Conn they already know, backed by the sans-I/O
// protocol core in package tcp.
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
//
// One Stack runs one goroutine that reads its link and one timer; a
// connection costs no goroutine of its own.
package threeway
