// Package threeway is a userspace TCP/IP stack: a Stack owns one link
// (an in-memory pipe, a TUN device, ...) and gives Go programs the
// net.Listener and net.Conn they already know, backed by the sans-I/O
// protocol core in package tcp.
//
// One Stack runs one goroutine that reads its link and one timer; a
// connection costs no goroutine of its own.
package threeway
