package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway"
)

// udpRelay relays the UDP flows of `threeway forward`: each flow (one
// client 4-tuple) gets a kernel UDP socket connected to the flow's
// original destination, and datagrams are copied both ways until the flow
// has been idle for the forwarder's timeout. An upstream port
// unreachable is passed on to the client as its own.
type udpRelay struct {
	mark int

	flows, active, failed, up, down, refused atomic.Int64
}

// allPrefixes cover every destination of both families.
var allPrefixes = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// startUDPRelay forwards UDP to prefixes (all destinations when empty).
func startUDPRelay(s *threeway.Stack, prefixes []netip.Prefix, mark int, idle time.Duration) (*threeway.UDPForwarder, *udpRelay, error) {
	if len(prefixes) == 0 {
		prefixes = allPrefixes
	}
	r := &udpRelay{mark: mark}
	f, err := s.ForwardUDP(threeway.UDPForwarderConfig{Prefixes: prefixes, Handler: r.handle, IdleTimeout: idle})
	return f, r, err
}

func (r *udpRelay) print(w io.Writer) {
	fmt.Fprintf(w, "UDPRelay.Flows %d\nUDPRelay.Active %d\nUDPRelay.UpstreamFailed %d\nUDPRelay.DatagramsUp %d\nUDPRelay.DatagramsDown %d\nUDPRelay.UpstreamRefused %d\n",
		r.flows.Load(), r.active.Load(), r.failed.Load(), r.up.Load(), r.down.Load(), r.refused.Load())
}

// handle relays one flow until it ends.
func (r *udpRelay) handle(flow *threeway.UDPConn) {
	dst := flow.LocalAddr().(*net.UDPAddr).AddrPort()
	up, err := r.dial(dst)
	if err != nil {
		r.failed.Add(1)
		flow.Close()
		return
	}
	r.flows.Add(1)
	r.active.Add(1)
	defer r.active.Add(-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if errors.Is(err, syscall.ECONNREFUSED) {
				// The destination's port unreachable: tell the
				// client the same, and go on (UDP may yet be heard).
				r.refused.Add(1)
				flow.SendUnreachable()
				continue
			}
			if err != nil {
				return
			}
			if _, err := flow.Write(buf[:n]); err != nil {
				return
			}
			r.down.Add(1)
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, err := flow.Read(buf)
		if err != nil {
			break // idle timeout, or the stack closing
		}
		if _, err := up.Write(buf[:n]); err == nil {
			r.up.Add(1)
		}
	}
	up.Close()
	flow.Close()
	<-done
}

// dial opens a kernel UDP socket connected to dst, carrying the mark.
func (r *udpRelay) dial(dst netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{}
	if r.mark != 0 {
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, r.mark)
			})
			return errors.Join(err, serr)
		}
	}
	return d.Dial("udp", dst.String())
}
