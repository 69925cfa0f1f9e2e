package main

import (
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/internal/simnet"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// dropFirstSYN returns a link filter that drops the first SYN (without
// ACK) it sees and nothing else. The pipe serializes calls per direction.
func dropFirstSYN() func([]byte) bool {
	done := false
	return func(pkt []byte) bool {
		if done {
			return false
		}
		f, ok := tcpFlags(pkt)
		if ok && f&wire.FlagSYN != 0 && f&wire.FlagACK == 0 {
			done = true
			return true
		}
		return false
	}
}

// tcpFlags returns the TCP flags of a raw IP packet.
func tcpFlags(pkt []byte) (wire.Flags, bool) {
	ip, err := wire.ParseIPPacket(pkt)
	if err != nil || ip.Protocol() != wire.ProtoTCP {
		return 0, false
	}
	h, err := wire.ParseTCP(ip.Payload())
	if err != nil {
		return 0, false
	}
	return h.Flags(), true
}

// demoNet is the demo's world: two stacks on a pipe on a simulated clock,
// stepped by a simnet driver, so that nothing happens that the driver
// does not know of and the conversation depends only on the flags.
type demoNet struct {
	cfg    demoConfig
	sim    *clock.Sim
	net    *simnet.Net
	rec    *ladder.Recorder
	events atomic.Uint64 // events recorded so far: what may wake a waiting application
	a, b   *link.PipeEnd
	stacks [2]*threeway.Stack
	addrs  [2]netip.Addr
	pcap   *os.File
	pcapW  *link.PcapWriter
	negMu  sync.Mutex
	neg    [2]*tcp.Negotiated // what each side's Conn negotiated, once it has one
}

// negotiated records what side s's connection negotiated.
func (n *demoNet) negotiated(s ladder.Side, c *threeway.Conn) {
	neg := c.Negotiated()
	n.negMu.Lock()
	defer n.negMu.Unlock()
	n.neg[s] = &neg
}

func newDemoNet(cfg demoConfig) (*demoNet, error) {
	n := &demoNet{cfg: cfg, sim: clock.NewSim(demoEpoch)}
	n.net = simnet.New(n.sim)
	start := n.sim.Now()
	n.rec = ladder.NewRecorder(func() time.Duration { return n.sim.Now().Sub(start) })
	n.rec.Observe = func(*ladder.Event) { n.events.Add(1) }

	prefixes := [2]netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("192.0.2.2/24")}
	if cfg.IPv6 {
		prefixes = [2]netip.Prefix{netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("2001:db8::2/64")}
	}
	ab := link.Impairments{Delay: linkDelay, Loss: cfg.Loss}
	ba := link.Impairments{Delay: linkDelay, Loss: cfg.Loss}
	if cfg.Loss > 0 {
		// Random loss may spare the handshake; this makes sure the
		// diagram shows a SYN retransmission.
		ab.Drop = dropFirstSYN()
	}
	n.a, n.b = link.Pipe(link.PipeConfig{Clock: n.sim, Seed: cfg.Seed, AtoB: ab, BtoA: ba})
	ports := [2]*simnet.Port{n.net.Join(n.a), n.net.Join(n.b)}
	var clientLink link.Link = ports[0]
	if cfg.Pcap != "" {
		f, err := os.Create(cfg.Pcap)
		if err != nil {
			return nil, err
		}
		n.pcap = f
		if n.pcapW, err = link.NewPcapWriter(f, 0); err != nil {
			f.Close()
			return nil, err
		}
		clientLink = link.Capture(ports[0], n.pcapW, n.sim)
	}
	links := [2]link.Link{clientLink, ports[1]}
	secrets := [2]*[16]byte{demoSecret(cfg.Seed, 'c'), demoSecret(cfg.Seed, 's')}
	for s := range n.stacks {
		st, err := threeway.New(threeway.Options{
			Link:      links[s],
			Addrs:     []netip.Prefix{prefixes[s]},
			Clock:     n.sim,
			TCP:       tcp.Config{MSL: demoMSL},
			ISNSecret: secrets[s],
			Tracer:    n.rec.Tracer(ladder.Side(s)),
		})
		if err != nil {
			n.close()
			return nil, err
		}
		n.stacks[s] = st
		n.addrs[s] = prefixes[s].Addr()
	}
	return n, nil
}

func (n *demoNet) close() error {
	for _, st := range n.stacks {
		if st != nil {
			st.Close()
		}
	}
	var err error
	if n.pcapW != nil {
		err = n.pcapW.Err()
	}
	if n.pcap != nil {
		if cerr := n.pcap.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (n *demoNet) hostPort(s ladder.Side, port uint16) string {
	return netip.AddrPortFrom(n.addrs[s], port).String()
}
