package conform

import (
	"net/netip"
	"syscall"

	"github.com/threeway-tcp/threeway/tcp"
)

// Linux's Fast Open client sockets API (RFC 7413 §4.1, as Linux's
// tcp_sendmsg_fastopen and tcp_fastopen_defer_connect offer it) over
// threeway's Fast Open connect (Dialer.FastOpen, Conn.WriteSyn):
//
//   - sendto(MSG_FASTOPEN) on an unconnected socket connects. With a
//     cookie cached the SYN carries as much of the data as fits; without
//     one it asks for a cookie and carries none.
//   - TCP_FASTOPEN_CONNECT + connect() returns 0 at once when a cookie is
//     cached: the SYN waits for the first write or send, which rides in
//     it (the stack's FastOpenConnectDelay is set beyond any script, so
//     it waits forever, as Linux's does). Without a cookie the connect is
//     a plain one whose SYN asks for a cookie.
//   - A non-blocking call returns the bytes the SYN carried, or
//     EINPROGRESS when it carried none; the rest is not queued. A
//     blocking call waits for the handshake and then sends the rest.

// fastOpenClient is a socket's state for that API.
type fastOpenClient struct {
	// nonblock is O_NONBLOCK as fcntl set it: the API's calls return
	// different things on a blocking socket.
	nonblock bool
	// connected is Linux's SS_CONNECTED: accept() made the socket, or a
	// connect or MSG_FASTOPEN send saw the handshake end. A MSG_FASTOPEN
	// send then fails with EISCONN.
	connected bool
	// blocked is a blocking write waiting for the handshake, with queued
	// bytes already taken; fastOpen says whether it was a Fast Open one.
	blocked, blockedFastOpen bool
	queued                   int
	// accepted: the socket came from accept(), so SYN-RECEIVED means a
	// Fast Open child, which may write before the handshake ends
	// (RFC 7413 §4.2.2), as Linux's may.
	accepted bool
}

// setNonblock records fcntl(F_SETFL)'s O_NONBLOCK.
func (s *twSock) setNonblock(on bool) { s.fo.nonblock = on }

// synDeferred reports whether the socket's SYN waits for a write.
func (s *twSock) synDeferred() bool {
	return s.conn != nil && s.conn.Info().SynDeferred
}

// sendFastOpen is a send with MSG_FASTOPEN, or any send on a socket whose
// SYN waits; handled is false when it is just a write.
func (s *twSock) sendFastOpen(n int, blocking bool, to netip.AddrPort) (k int, err error, handled bool) {
	if s.b.fastOpenFlags&1 == 0 {
		// Linux: the client bit of net.ipv4.tcp_fastopen is off.
		return 0, syscall.EOPNOTSUPP, true
	}
	if s.fo.blocked {
		return 0, nil, false
	}
	if s.conn == nil {
		if !to.IsValid() {
			return 0, nil, false
		}
		s.fastOpenConnect = true // sendto(MSG_FASTOPEN) is a Fast Open connect
		if err := s.connect(to); err != nil && err != syscall.EINPROGRESS {
			return 0, err, true
		}
		if !s.synDeferred() && !blocking {
			// No cookie: the SYN went asking for one, carrying nothing.
			return 0, syscall.EINPROGRESS, true
		}
		k, err := s.writeMode(n, blocking)
		s.fo.blockedFastOpen = s.fo.blocked
		return k, err, true
	}
	switch st := s.conn.State(); {
	case s.synDeferred():
		k, err := s.writeMode(n, blocking)
		s.fo.blockedFastOpen = s.fo.blocked
		return k, err, true
	case st == tcp.SynSent || st == tcp.SynReceived:
		if !blocking {
			return 0, syscall.EALREADY, true
		}
		// A blocking one waits for the connect under way, then sends.
		return 0, nil, false
	case s.fo.connected:
		return 0, syscall.EISCONN, true
	case st != tcp.Closed:
		s.fo.connected = true
	}
	return 0, nil, false
}

// writeConnecting is a write before the handshake has ended.
func (s *twSock) writeConnecting(n int, blocking bool) (int, error) {
	if s.fo.blocked {
		return 0, syscall.EAGAIN
	}
	k := 0
	if s.synDeferred() {
		k, _ = s.conn.WriteSyn(zeros[:n])
		if !blocking {
			if k == 0 {
				return 0, syscall.EINPROGRESS
			}
			return k, nil
		}
	} else if !blocking {
		return 0, syscall.EAGAIN
	}
	// A blocking write waits for the handshake. Linux queues the rest
	// only then, but a waiting writer makes it hold the ACK of the
	// SYN-ACK for the data (sk_write_pending in tcp_rcv_synsent_state_process),
	// so queueing it now puts the same segments on the wire.
	m := 0
	if n > k {
		// An error shows when the handshake ends.
		m, _ = s.conn.WriteNonblock(zeros[k:n])
	}
	s.fo.blocked, s.fo.blockedFastOpen, s.fo.queued = true, false, k+m
	return 0, syscall.EAGAIN
}

// blockedDone ends a blocked write once the handshake has: the bytes it
// queued, or, when the connection failed, ok false for the caller to
// report the error.
func (s *twSock) blockedDone() (int, bool) {
	s.fo.blocked = false
	if s.conn.State() == tcp.Closed {
		return 0, false
	}
	if s.fo.blockedFastOpen {
		s.fo.connected = true
	}
	return s.fo.queued, true
}

// connectAgain is connect() on a socket that has a connection: Linux's
// __inet_stream_connect on a socket already connecting or connected.
func (s *twSock) connectAgain() error {
	switch st := s.conn.State(); {
	case s.synDeferred() || s.fo.connected:
		return syscall.EISCONN
	case st == tcp.SynSent || st == tcp.SynReceived:
		return syscall.EALREADY
	case st != tcp.Closed:
		s.fo.connected = true
		return nil
	}
	if err := s.conn.SocketError(); err != nil && !s.errShown {
		s.errShown = true
		return err
	}
	return syscall.ECONNABORTED
}

// sendUnspec is sendto with an AF_UNSPEC address: Linux refuses it for
// Fast Open (tcp_sendmsg_fastopen) and otherwise ignores a connected TCP
// socket's address.
func (s *twSock) sendUnspec(n, flags int) (int, error) {
	if flags&msgFastopen != 0 {
		return 0, syscall.EOPNOTSUPP
	}
	return s.send(n, flags, netip.AddrPort{})
}
