package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway"
)

func init() {
	commands["forward"] = &command{
		summary: "transparent TCP and UDP proxy on a TUN device: every connection spliced, every UDP flow relayed, to its destination",
		run:     runForward,
	}
}

// ICMP destination-unreachable codes the proxy mirrors (RFC 792, RFC 4443).
const (
	icmp4NetUnreach   = 0
	icmp4HostUnreach  = 1
	icmp4AdminProhib  = 13
	icmp6NoRoute      = 0
	icmp6AdminProhib  = 1
	icmp6AddrUnreach  = 3
	defaultDialWait   = 5 * time.Second
	completeWait      = time.Minute
	spliceBufferBytes = 64 << 10
)

func runForward(args []string) error {
	fs := newFlagSet("forward", "forward --tun NAME --addr CIDR [--socks5 HOST:PORT] [--pcap FILE] [--ladder[=PORT]] [flags]")
	var tf tunFlags
	tf.register(fs)
	var lad ladderFlag
	lad.register(fs)
	socks := fs.String("socks5", "", "reach destinations through this SOCKS5 proxy instead of directly")
	dialWait := fs.Duration("dial-timeout", defaultDialWait, "give up on an upstream dial after this long (the client then times out too)")
	decide := fs.Duration("decide-timeout", 0, "forward request decision deadline (0: the stack's default, 10s)")
	maxPending := fs.Int("max-pending", 0, "pending forward requests in total (0: default 1024)")
	maxPerSource := fs.Int("max-per-source", 0, "pending forward requests per client address (0: default 256)")
	mark := fs.Int("mark", 0, "SO_MARK for upstream sockets, for policy routing around the TUN")
	echo := fs.Bool("echo", false, "answer pings to every forwarded address")
	var prefixes prefixList
	fs.Var(&prefixes, "prefix", "forward only destinations in this prefix (repeatable; default: all)")
	udpIdle := fs.Duration("udp-idle", threeway.DefaultUDPIdleTimeout, "end a relayed UDP flow after this long without a datagram (direct only: SOCKS5 does not carry UDP here)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tf.tracer = lad.tracer(os.Stderr)
	s, closeAll, err := tf.stack()
	if err != nil {
		return err
	}
	defer closeAll()
	p := &proxy{socks: *socks, dialWait: *dialWait, mark: *mark}
	f, err := s.Forward(prefixes, p.handle, threeway.ForwardOptions{
		Timeout: *decide, MaxPending: *maxPending, MaxPerSource: *maxPerSource, Echo: *echo,
	})
	if err != nil {
		return err
	}
	var relay *udpRelay
	if *socks == "" {
		uf, r, err := startUDPRelay(s, prefixes, *mark, *udpIdle)
		if err != nil {
			return err
		}
		defer uf.Close()
		relay = r
	}
	via := "direct"
	if *socks != "" {
		via = "socks5 " + *socks
	}
	fmt.Fprintf(os.Stderr, "threeway: forwarding on %s (%s) via %s\n", tf.dev, tf.addrs.String(), via)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	f.Close()
	stats := s.Stats()
	printStats(os.Stdout, &stats)
	fst := f.Stats()
	p.print(os.Stdout, &fst)
	if relay != nil {
		relay.print(os.Stdout)
	}
	return nil
}

// proxy splices forwarded connections to kernel sockets.
type proxy struct {
	socks    string
	dialWait time.Duration
	mark     int

	conns, active, refused, unreachable, timedOut, failed atomic.Int64
	upResets, clientResets, bytesUp, bytesDown            atomic.Int64
}

func (p *proxy) print(w io.Writer, f *threeway.ForwardStats) {
	for _, kv := range []struct {
		k string
		v any
	}{
		{"Forward.Requests", f.Requests}, {"Forward.Duplicates", f.Duplicates}, {"Forward.Completed", f.Completed},
		{"Forward.Rejected", f.Rejected}, {"Forward.Forgotten", f.Forgotten}, {"Forward.Expired", f.Expired},
		{"Forward.ClientResets", f.ClientResets}, {"Forward.RefusedTotal", f.RefusedTotal},
		{"Forward.RefusedPerSource", f.RefusedPerSource}, {"Forward.CookiesSent", f.CookiesSent},
		{"Forward.CookiesRecv", f.CookiesRecv}, {"Forward.MaxPendingSeen", f.MaxPendingSeen},
		{"Forward.MaxHandshakenSeen", f.MaxHandshakenSeen},
		{"Forward.EchoAnswered", f.Echo.Answered},
		{"Proxy.Connections", p.conns.Load()}, {"Proxy.Active", p.active.Load()},
		{"Proxy.UpstreamRefused", p.refused.Load()}, {"Proxy.UpstreamUnreachable", p.unreachable.Load()},
		{"Proxy.UpstreamTimeouts", p.timedOut.Load()}, {"Proxy.UpstreamFailed", p.failed.Load()},
		{"Proxy.UpstreamResets", p.upResets.Load()}, {"Proxy.ClientResets", p.clientResets.Load()},
		{"Proxy.BytesUp", p.bytesUp.Load()}, {"Proxy.BytesDown", p.bytesDown.Load()},
	} {
		fmt.Fprintf(w, "%s %v\n", kv.k, kv.v)
	}
}

// handle dials the request's destination first and answers the client
// the way the upstream answered: connected, refused (RST), unreachable
// (ICMP) or silent (no answer, the client times out).
func (p *proxy) handle(req *threeway.ForwardRequest) {
	ctx, cancel := context.WithTimeout(req.Context(), p.dialWait)
	up, err := p.dial(ctx, req.Destination())
	cancel()
	if err != nil {
		p.reject(req, err)
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), completeWait)
	c, err := req.Complete(cctx)
	cancel()
	if err != nil {
		up.SetLinger(0)
		up.Close()
		return
	}
	p.conns.Add(1)
	p.active.Add(1)
	defer p.active.Add(-1)
	p.splice(c, up)
}

// reject mirrors an upstream dial's failure to the client.
func (p *proxy) reject(req *threeway.ForwardRequest, err error) {
	v4 := req.Destination().Addr().Is4()
	code := func(c4, c6 uint8) uint8 {
		if v4 {
			return c4
		}
		return c6
	}
	var se socksError
	switch {
	case errors.As(err, &se):
		switch se {
		case socksRefused:
			p.refused.Add(1)
			req.Reject()
		case socksNetUnreach:
			p.unreachable.Add(1)
			req.RejectUnreachable(code(icmp4NetUnreach, icmp6NoRoute))
		case socksHostUnreach:
			p.unreachable.Add(1)
			req.RejectUnreachable(code(icmp4HostUnreach, icmp6AddrUnreach))
		case socksNotAllowed:
			p.unreachable.Add(1)
			req.RejectUnreachable(code(icmp4AdminProhib, icmp6AdminProhib))
		case socksTTLExpired:
			p.timedOut.Add(1)
			req.Drop()
		default:
			p.failed.Add(1)
			req.Reject()
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		p.refused.Add(1)
		req.Reject()
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		p.unreachable.Add(1)
		req.RejectUnreachable(code(icmp4HostUnreach, icmp6AddrUnreach))
	case errors.Is(err, syscall.ENETUNREACH):
		p.unreachable.Add(1)
		req.RejectUnreachable(code(icmp4NetUnreach, icmp6NoRoute))
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		p.unreachable.Add(1)
		req.RejectUnreachable(code(icmp4AdminProhib, icmp6AdminProhib))
	case isTimeout(err), errors.Is(err, syscall.ETIMEDOUT):
		// The destination is silent: so are we.
		p.timedOut.Add(1)
		req.Drop()
	default:
		p.failed.Add(1)
		req.Reject()
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}

// dial reaches dst directly or through the SOCKS5 proxy, from a kernel
// socket carrying the configured mark.
func (p *proxy) dial(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
	d := net.Dialer{}
	if p.mark != 0 {
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, p.mark)
			})
			return errors.Join(err, serr)
		}
	}
	target := dst.String()
	if p.socks != "" {
		target = p.socks
	}
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	if p.socks != "" {
		if err := socksConnect(ctx, tc, dst); err != nil {
			tc.Close()
			return nil, err
		}
	}
	return tc, nil
}

// splice copies both ways until both directions have ended, passing a
// half-close through (FIN for FIN) and a reset through as a reset. One
// direction runs in the caller's goroutine.
func (p *proxy) splice(client *threeway.Conn, up *net.TCPConn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := copyStream(up, client)
		p.bytesUp.Add(n)
		if err == nil {
			up.CloseWrite()
			return
		}
		// The client reset (or the upstream write failed): reset both.
		if isReset(err) {
			p.clientResets.Add(1)
		}
		up.SetLinger(0)
		up.Close()
		client.SetLinger(0)
		client.Close()
	}()
	n, err := copyStream(client, up)
	p.bytesDown.Add(n)
	if err == nil {
		client.CloseWrite()
	} else {
		if isReset(err) {
			p.upResets.Add(1)
		}
		client.SetLinger(0)
		client.Close()
		up.SetLinger(0)
		up.Close()
	}
	<-done
	client.Close()
	up.Close()
}

// bulkBuffers hold the copy buffers of busy connections; an idle or
// chatty connection copies through a small buffer of its own, so a held
// connection costs little memory.
var bulkBuffers = sync.Pool{New: func() any { return new([spliceBufferBytes]byte) }}

// copyStream copies src to dst until EOF (nil error) or an error, moving
// to a pooled large buffer once a read fills the small one.
func copyStream(dst io.Writer, src io.Reader) (int64, error) {
	var small [4 << 10]byte
	buf := small[:]
	var big *[spliceBufferBytes]byte
	defer func() {
		if big != nil {
			bulkBuffers.Put(big)
		}
	}()
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
			if n == len(buf) && big == nil {
				big = bulkBuffers.Get().(*[spliceBufferBytes]byte)
				buf = big[:]
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
