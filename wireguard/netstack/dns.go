package netstack

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsTimeout bounds one query to one server.
const dnsTimeout = 5 * time.Second

// LookupHost resolves host through the tunnel's DNS servers.
func (n *Net) LookupHost(host string) ([]string, error) {
	return n.LookupContextHost(context.Background(), host)
}

// LookupContextHost resolves host (an IP literal is returned as it is)
// with A and AAAA queries, for the families the tunnel has, to each DNS
// server in turn over UDP, retrying over TCP when an answer comes back
// truncated (RFC 1035 §4.2.1, RFC 7766 §5). IPv6 addresses come first when
// the tunnel has IPv6.
func (n *Net) LookupContextHost(ctx context.Context, host string) ([]string, error) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil {
		return []string{a.String()}, nil
	}
	notFound := &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	if host == "" || !n.hasV4 && !n.hasV6 {
		return nil, notFound
	}
	if len(n.dnsServers) == 0 {
		return nil, &net.DNSError{Err: errNoDNS.Error(), Name: host}
	}
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: host}
	}
	var types []dnsmessage.Type
	if n.hasV6 {
		types = append(types, dnsmessage.TypeAAAA)
	}
	if n.hasV4 {
		types = append(types, dnsmessage.TypeA)
	}
	var out []string
	var lastErr error
	for _, t := range types {
		addrs, err := n.query(ctx, host, dnsmessage.Question{Name: name, Type: t, Class: dnsmessage.ClassINET})
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range addrs {
			out = append(out, a.String())
		}
	}
	if len(out) == 0 {
		if lastErr == nil {
			lastErr = notFound
		}
		return nil, lastErr
	}
	return out, nil
}

// query asks each server, twice round, until one answers.
func (n *Net) query(ctx context.Context, host string, q dnsmessage.Question) ([]netip.Addr, error) {
	var lastErr error
	for round := 0; round < 2; round++ {
		for _, server := range n.dnsServers {
			addrs, err := n.exchange(ctx, netip.AddrPortFrom(server, 53), q)
			if err == nil {
				return addrs, nil
			}
			dnsErr := &net.DNSError{Err: err.Error(), Name: host, Server: server.String()}
			var ne net.Error
			dnsErr.IsTimeout = errors.As(err, &ne) && ne.Timeout()
			if err == errNXDomain {
				dnsErr.Err, dnsErr.IsNotFound = "no such host", true
				return nil, dnsErr
			}
			lastErr = dnsErr
			if ctx.Err() != nil {
				return nil, lastErr
			}
		}
	}
	return nil, lastErr
}

var (
	errNXDomain    = errors.New("no such host")
	errBadResponse = errors.New("malformed or mismatched DNS response")
	errServerFail  = errors.New("server misbehaving")
)

// exchange sends one query to server and returns the answer's addresses.
func (n *Net) exchange(ctx context.Context, server netip.AddrPort, q dnsmessage.Question) ([]netip.Addr, error) {
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true}, Questions: []dnsmessage.Question{q}}
	req, err := msg.Pack()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(dnsTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c, err := n.DialUDPAddrPort(netip.AddrPort{}, server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.SetDeadline(deadline)
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	buf := make([]byte, 1232) // RFC 9715's safe EDNS size bounds what UDP brings
	for {
		k, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		addrs, truncated, err := parseAnswer(buf[:k], id, q)
		if err == errBadResponse {
			continue // not ours: keep listening until the deadline
		}
		if truncated {
			return n.exchangeTCP(ctx, server, req, id, q, deadline)
		}
		return addrs, err
	}
}

// exchangeTCP repeats a truncated query over TCP, each message preceded
// by its two-byte length (RFC 1035 §4.2.2).
func (n *Net) exchangeTCP(ctx context.Context, server netip.AddrPort, req []byte, id uint16, q dnsmessage.Question, deadline time.Time) ([]netip.Addr, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := n.DialContextTCPAddrPort(dctx, server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	framed := binary.BigEndian.AppendUint16(nil, uint16(len(req)))
	if _, err := c.Write(append(framed, req...)); err != nil {
		return nil, err
	}
	var lb [2]byte
	if _, err := io.ReadFull(c, lb[:]); err != nil {
		return nil, err
	}
	resp := make([]byte, binary.BigEndian.Uint16(lb[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return nil, err
	}
	addrs, _, err := parseAnswer(resp, id, q)
	return addrs, err
}

// parseAnswer checks a response against its query and collects the
// addresses of the answer section.
func parseAnswer(b []byte, id uint16, q dnsmessage.Question) (addrs []netip.Addr, truncated bool, err error) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || !h.Response || h.ID != id {
		return nil, false, errBadResponse
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 || qs[0].Type != q.Type || qs[0].Class != q.Class || !strings.EqualFold(qs[0].Name.String(), q.Name.String()) {
		return nil, false, errBadResponse
	}
	if h.Truncated {
		return nil, true, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, false, errNXDomain
	default:
		return nil, false, errServerFail
	}
	for {
		ah, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return nil, false, errBadResponse
		}
		switch ah.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil, false, errBadResponse
			}
			if q.Type == dnsmessage.TypeA {
				addrs = append(addrs, netip.AddrFrom4(r.A))
			}
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil, false, errBadResponse
			}
			if q.Type == dnsmessage.TypeAAAA {
				addrs = append(addrs, netip.AddrFrom16(r.AAAA))
			}
		default:
			if err := p.SkipAnswer(); err != nil {
				return nil, false, errBadResponse
			}
		}
	}
	return addrs, false, nil
}
