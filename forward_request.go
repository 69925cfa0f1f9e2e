package threeway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway/host"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Why a request ended without its handler's decision; its Context's
// cause, and the error of a decision made too late.
var (
	ErrForwardTimeout  = errors.New("threeway: forward request not decided before its deadline")
	errClientReset     = errors.New("threeway: the client reset the forward request")
	errForwarderClosed = errors.New("threeway: forwarder closed")
	// ErrAlreadyDecided is returned by a second decision.
	ErrAlreadyDecided = errors.New("threeway: forward request already decided")
)

// ForwardRequest is one SYN to a forwarded destination, awaiting its
// handler's decision.
type ForwardRequest struct {
	f       *Forwarder
	r       *tcp.Request
	conn    *Conn // set when a SYN cookie already completed the handshake
	ctx     context.Context
	cancel  context.CancelCauseFunc
	decided atomic.Bool
}

func (f *Forwarder) newRequest(r *tcp.Request) *ForwardRequest {
	ctx, cancel := context.WithCancelCause(context.Background())
	req := &ForwardRequest{f: f, r: r, ctx: ctx, cancel: cancel}
	r.Owner = req
	return req
}

// Source is the client's address and port.
func (r *ForwardRequest) Source() netip.AddrPort {
	return netip.AddrPortFrom(r.r.Tuple.RemoteAddr, r.r.Tuple.RemotePort)
}

// Destination is the address and port the client wanted: the real
// server's, and the LocalAddr of the connection Complete returns.
func (r *ForwardRequest) Destination() netip.AddrPort {
	return netip.AddrPortFrom(r.r.Tuple.LocalAddr, r.r.Tuple.LocalPort)
}

// SYNOptions are the options the client's SYN carried (MSS, window scale,
// SACK-permitted, timestamps), to offer the same upstream.
func (r *ForwardRequest) SYNOptions() wire.Options { return r.r.SYN.Options }

// Handshaken reports that a SYN cookie already completed the handshake
// (the forwarder was at its pending bound): the client believes it is
// connected, and Reject resets an established connection.
func (r *ForwardRequest) Handshaken() bool { return r.conn != nil }

// Context ends when the request is decided or over without a decision:
// its deadline passed, the client gave up (reset), or the forwarder
// closed. Use it for an upstream dial made before deciding, so hung dials
// do not pile up; context.Cause says why it ended.
func (r *ForwardRequest) Context() context.Context { return r.ctx }

// decide runs f on the request under the stack lock, once.
func (r *ForwardRequest) decide(f func(now time.Duration) error) error {
	if r.decided.Swap(true) {
		return ErrAlreadyDecided
	}
	s := r.f.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		r.cancel(nil)
		return ErrStackClosed
	}
	now := s.now()
	err := f(now)
	s.flushLocked(now)
	s.unlock()
	r.cancel(nil)
	if errors.Is(err, tcp.ErrRequestGone) {
		if cause := context.Cause(r.ctx); cause != nil && cause != context.Canceled {
			err = cause
		}
	}
	return err
}

// Complete finishes the handshake and returns the connection once it is
// established, its LocalAddr the original destination. ctx bounds the
// wait for the client's ACK (the SYN-ACK is retransmitted meanwhile).
func (r *ForwardRequest) Complete(ctx context.Context) (*Conn, error) {
	var c *Conn
	err := r.decide(func(now time.Duration) error {
		s := r.f.s
		hc, err := s.host.ForwardComplete(now, r.f.hf, r.r, r.hadConn())
		if err != nil {
			return err
		}
		if r.conn != nil {
			c = r.conn
			return nil
		}
		c = s.wrap(hc)
		return nil
	})
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: net.TCPAddrFromAddrPort(r.Destination()), Err: err}
	}
	if err := c.awaitEstablished(ctx, "tcp"); err != nil {
		return nil, err
	}
	return c, nil
}

// Reject answers with a RST, as a closed port would: the client's connect
// fails with ECONNREFUSED.
func (r *ForwardRequest) Reject() error {
	return r.decide(func(now time.Duration) error {
		return r.f.s.host.ForwardReject(now, r.f.hf, r.r, r.hadConn())
	})
}

// RejectUnreachable answers with an ICMP destination unreachable of the
// given code (ICMPv4 type 3, or ICMPv6 type 1 for an IPv6 client), from
// the original destination, quoting the client's SYN: the way to mirror
// what the real destination's network said (host unreachable: 1 for
// IPv4, 3 for IPv6; administratively prohibited: 13 and 1).
func (r *ForwardRequest) RejectUnreachable(code uint8) error {
	return r.decide(func(now time.Duration) error {
		return r.f.s.host.ForwardForget(now, r.f.hf, r.r, r.hadConn(), true, code)
	})
}

// Drop sends nothing: the client retransmits its SYN and times out, as
// if the destination were silent. Until the request's deadline those
// retransmissions are absorbed rather than made into new requests.
func (r *ForwardRequest) Drop() error {
	return r.decide(func(now time.Duration) error {
		return r.f.s.host.ForwardForget(now, r.f.hf, r.r, r.hadConn(), false, 0)
	})
}

// hadConn is the host connection a SYN cookie already made, or nil.
func (r *ForwardRequest) hadConn() *host.Conn {
	if r.conn == nil {
		return nil
	}
	return r.conn.hc
}
