package threeway

import (
	"net/netip"

	"github.com/threeway-tcp/threeway/tcp"
)

// DialOptions are the socket options of a connection that must be set
// before its SYN goes out, as a sockets program sets them between
// socket() and connect(). Dialer is the fuller form.
type DialOptions struct {
	// LocalAddress is the local "ip:port" to connect from (bind before
	// connect); an empty host or port 0 lets the stack choose.
	LocalAddress string
	// SendBuffer and RecvBuffer, when positive, size the connection's
	// buffers (SO_SNDBUF, SO_RCVBUF). The receive buffer sets the
	// window and window scale the SYN offers.
	SendBuffer, RecvBuffer int
	// FastOpen makes the connect use TCP Fast Open (RFC 7413) the way
	// Linux's TCP_FASTOPEN_CONNECT does: no SYN goes out until the first
	// Write, whose data rides in the SYN with the server's cached cookie
	// (or that asks for a cookie when none is cached). With nothing
	// written the SYN goes without data after TCP.FastOpenConnectDelay.
	FastOpen bool
	// CongestionControl, when set, chooses the connection's algorithm
	// (Linux's TCP_CONGESTION) over the stack's tcp.Config one.
	CongestionControl tcp.CCAlgorithm
}

// StartDial begins an active open and returns at once, with the
// connection in SYN-SENT and its SYN sent: a non-blocking connect(). It
// is Dialer.Start with opts.
func (s *Stack) StartDial(network, address string, opts DialOptions) (*Conn, error) {
	d := &Dialer{Stack: s, SendBuffer: opts.SendBuffer, RecvBuffer: opts.RecvBuffer, FastOpen: opts.FastOpen,
		CongestionControl: opts.CongestionControl}
	if opts.LocalAddress != "" {
		la, err := parseLocalAddr(opts.LocalAddress)
		if err != nil {
			return nil, dialError(network, address, err)
		}
		d.LocalAddr = la
	}
	return d.Start(network, address)
}

// parseLocalAddr parses "ip:port" with an optional host.
func parseLocalAddr(address string) (netip.AddrPort, error) {
	h, p, err := splitAddr(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var a netip.Addr
	if h != "" {
		if a, err = parseHost(h); err != nil {
			return netip.AddrPort{}, err
		}
	}
	return netip.AddrPortFrom(a, p), nil
}

// SocketError returns the error that ended the connection (SO_ERROR):
// ECONNREFUSED, ECONNRESET, ETIMEDOUT and the like, as a syscall.Errno,
// or nil while it has none.
func (c *Conn) SocketError() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.tcb.Err()
}
