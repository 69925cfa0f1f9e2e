package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
	twtcp "github.com/threeway-tcp/threeway/tcp"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	gvtcp "gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// kind names a stack under test.
type kind int

const (
	threewayKind kind = iota
	gvisorKind
	numKinds
)

func (k kind) String() string {
	if k == threewayKind {
		return "threeway"
	}
	return "gvisor"
}

var (
	clientAddr = netip.MustParseAddr("192.0.2.1")
	serverAddr = netip.MustParseAddr("192.0.2.2")
)

const (
	serverPort = 5001
	prefixLen  = 24
	// backlog is the listen backlog for both stacks: gonet.ListenTCP's
	// fixed 4096, which threeway's Listener.SetBacklog is set to match.
	backlog = 4096
	// queueLen is the pipe's queue at each end, in packets. link.Pipe's
	// default of 1024 overflows when 64 clients dial threeway at full
	// speed: the server stack's reader goroutine competes with the
	// clients' for the two CPUs, and every dropped SYN or FIN then costs
	// a 1 s retransmission timeout, which swamps the measurement.
	queueLen = 8192
)

// pairConfig is what both stacks of a pair share.
type pairConfig struct {
	MTU    int
	Buffer int // send and receive buffer, bytes
	// Path, for the lossy family: impairments each way (client to
	// server is AtoB) and the seed of their random choices.
	AtoB, BtoA link.Impairments
	Seed       uint64
	// WrapClient, if set, wraps the client's end of the pipe (the lossy
	// family's capture for -lossyplot).
	WrapClient func(link.Link) link.Link
}

// pair is a client stack and a server stack of one kind on one link.Pipe,
// with the server listening on serverAddr:serverPort.
type pair struct {
	kind  kind
	ln    net.Listener
	dial  func(ctx context.Context) (net.Conn, error)
	close func()
	// a is the client's end of the pipe, b the server's: a.Stats()
	// counts client-to-server packets, b.Stats() the other way.
	a, b *link.PipeEnd
	// retrans returns the segments both stacks retransmitted so far.
	retrans func() uint64
}

func (p *pair) Close() { p.close() }

// drops counts the packets the pipe dropped, both ways.
func (p *pair) drops() uint64 { return p.a.Stats().QueueDrops + p.b.Stats().QueueDrops }

func newPair(k kind, pc pairConfig) (*pair, error) {
	a, b := link.Pipe(link.PipeConfig{MTU: pc.MTU, QueueLen: queueLen, AtoB: pc.AtoB, BtoA: pc.BtoA, Seed: pc.Seed})
	var client link.Link = a
	if pc.WrapClient != nil {
		client = pc.WrapClient(a)
	}
	var p *pair
	var err error
	if k == threewayKind {
		p, err = newThreewayPair(client, b, pc)
	} else {
		p, err = newGvisorPair(client, b, pc)
	}
	if err != nil {
		return nil, err
	}
	p.a, p.b = a, b
	return p, nil
}

func newThreewayPair(a, b link.Link, pc pairConfig) (*pair, error) {
	cfg := twtcp.Config{SendBuffer: pc.Buffer, RecvBuffer: pc.Buffer}
	cs, err := threeway.New(threeway.Options{
		Link: a, Addrs: []netip.Prefix{netip.PrefixFrom(clientAddr, prefixLen)}, TCP: cfg,
	})
	if err != nil {
		return nil, err
	}
	ss, err := threeway.New(threeway.Options{
		Link: b, Addrs: []netip.Prefix{netip.PrefixFrom(serverAddr, prefixLen)}, TCP: cfg,
	})
	if err != nil {
		cs.Close()
		return nil, err
	}
	ln, err := ss.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(serverAddr, serverPort)))
	if err != nil {
		cs.Close()
		ss.Close()
		return nil, err
	}
	ln.SetBacklog(backlog, backlog)
	dst := netip.AddrPortFrom(serverAddr, serverPort).String()
	return &pair{
		kind: threewayKind,
		ln:   ln,
		dial: func(ctx context.Context) (net.Conn, error) { return cs.DialContext(ctx, "tcp4", dst) },
		retrans: func() uint64 {
			return cs.Stats().RetransSegs + ss.Stats().RetransSegs
		},
		close: func() {
			ln.Close()
			cs.Close()
			ss.Close()
		},
	}, nil
}

// newGvisorStack builds a gVisor stack with IPv4, IPv6 and TCP on l, with
// one IPv4 address, and its TCP buffers fixed at pc.Buffer.
func newGvisorStack(l link.Link, addr netip.Addr, pc pairConfig) (*stack.Stack, *gvLink, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{gvtcp.NewProtocol},
	})
	// Default and Max both at pc.Buffer: receive-buffer moderation stays
	// on (gVisor's default) but cannot grow past what threeway gets.
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: gvtcp.MinBufferSize, Default: pc.Buffer, Max: pc.Buffer}
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: gvtcp.MinBufferSize, Default: pc.Buffer, Max: pc.Buffer}
	if err := s.SetTransportProtocolOption(gvtcp.ProtocolNumber, &snd); err != nil {
		return nil, nil, fmt.Errorf("gvisor send buffer option: %v", err)
	}
	if err := s.SetTransportProtocolOption(gvtcp.ProtocolNumber, &rcv); err != nil {
		return nil, nil, fmt.Errorf("gvisor receive buffer option: %v", err)
	}
	ep := newGvLink(l)
	if err := s.CreateNIC(1, ep); err != nil {
		return nil, nil, fmt.Errorf("gvisor CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom4(addr.As4()),
			PrefixLen: prefixLen,
		},
	}
	if err := s.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		return nil, nil, fmt.Errorf("gvisor AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	return s, ep, nil
}

func newGvisorPair(a, b link.Link, pc pairConfig) (*pair, error) {
	var stacks []*stack.Stack
	var links []*gvLink
	// shutdown aborts every endpoint (RSTs go out while the link is up),
	// closes the links and waits for their readers, and only then calls
	// Stack.Wait: it holds the stack lock while it waits for the link,
	// and a reader delivering a packet needs that lock.
	shutdown := func() {
		for _, s := range stacks {
			s.Close()
		}
		a.Close()
		b.Close()
		for _, l := range links {
			l.Wait()
		}
		for _, s := range stacks {
			s.Wait()
		}
	}
	for _, side := range []struct {
		l    link.Link
		addr netip.Addr
	}{{a, clientAddr}, {b, serverAddr}} {
		s, l, err := newGvisorStack(side.l, side.addr, pc)
		if err != nil {
			shutdown()
			return nil, err
		}
		stacks, links = append(stacks, s), append(links, l)
	}
	cs, ss := stacks[0], stacks[1]
	dst := tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(serverAddr.As4()), Port: serverPort}
	ln, err := gonet.ListenTCP(ss, dst, ipv4.ProtocolNumber)
	if err != nil {
		shutdown()
		return nil, err
	}
	return &pair{
		kind: gvisorKind,
		ln:   ln,
		dial: func(ctx context.Context) (net.Conn, error) {
			return gonet.DialContextTCP(ctx, cs, dst, ipv4.ProtocolNumber)
		},
		retrans: func() uint64 {
			return cs.Stats().TCP.Retransmits.Value() + ss.Stats().TCP.Retransmits.Value()
		},
		close: func() {
			ln.Close()
			shutdown()
		},
	}, nil
}
