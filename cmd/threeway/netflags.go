package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/link/tun"
	"github.com/threeway-tcp/threeway/tcp"
)

// prefixList is a repeatable --addr flag.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	x, err := netip.ParsePrefix(v)
	if err != nil {
		return fmt.Errorf("--addr wants CIDR like 192.0.2.2/24: %v", err)
	}
	*p = append(*p, x)
	return nil
}

// tunFlags are the flags serve and dial share: where the stack runs.
type tunFlags struct {
	dev   string
	addrs prefixList
	pcap  string
	mtu   int
	// tracer, if set before stack, hears the stack (--ladder).
	tracer threeway.Tracer
	// offload asks the device for a virtio-net header and the kernel's
	// checksum and segmentation offloads (64 KiB segments both ways).
	offload bool
	// cpuProfile, if set, is where a CPU profile of the whole run goes.
	cpuProfile string
}

func (f *tunFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dev, "tun", "", "TUN device to attach to (created if missing)")
	fs.Var(&f.addrs, "addr", "the stack's address with prefix length (repeatable)")
	fs.StringVar(&f.pcap, "pcap", "", "write every packet to this pcap file")
	fs.IntVar(&f.mtu, "mtu", 0, "MTU (0: the device's)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	fs.BoolVar(&f.offload, "offload", true, "negotiate the kernel's TUN offloads (virtio-net header: checksum, TSO, large segments); false: one MTU-sized packet per read/write")
}

// stack opens the TUN device and starts a stack on it; see tunStack.
func (f *tunFlags) stack() (*threeway.Stack, func(), error) {
	stopProfile := func() {}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, nil, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return nil, nil, err
		}
		stopProfile = func() { pprof.StopCPUProfile(); pf.Close() }
	}
	s, closeAll, err := tunStack(f.dev, tun.Options{MTU: f.mtu, VnetHdr: f.offload}, f.addrs, f.pcap, f.tracer)
	if err != nil {
		stopProfile()
		return nil, nil, err
	}
	return s, func() { closeAll(); stopProfile() }, nil
}

// tunStack opens a TUN device and starts a stack on it, optionally
// capturing every packet to a pcap file. close undoes both.
func tunStack(dev string, opts tun.Options, addrs prefixList, pcapPath string, tracer threeway.Tracer) (s *threeway.Stack, closeAll func(), err error) {
	if dev == "" {
		return nil, nil, fmt.Errorf("--tun is required")
	}
	if len(addrs) == 0 {
		return nil, nil, fmt.Errorf("at least one --addr is required")
	}
	d, err := tun.OpenOptions(dev, opts)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "threeway: %s offloads: %s\n", dev, describeOffloads(d.Offloads()))
	var l link.Link = d
	var pcapFile *os.File
	if pcapPath != "" {
		pcapFile, err = os.Create(pcapPath)
		if err != nil {
			d.Close()
			return nil, nil, err
		}
		w, err := link.NewPcapWriter(pcapFile, 65535)
		if err != nil {
			d.Close()
			pcapFile.Close()
			return nil, nil, err
		}
		l = link.Capture(d, w, clock.Real)
	}
	var cfg tcp.Config
	if d.Offloads().TSO4 || d.Offloads().TSO6 {
		// 64 KiB segments: a 256 KiB window would hold only four.
		cfg.SendBuffer, cfg.RecvBuffer = 1<<20, 1<<20
	}
	s, err = threeway.New(threeway.Options{Link: l, Addrs: addrs, TCP: cfg, Tracer: tracer})
	if err != nil {
		l.Close()
		if pcapFile != nil {
			pcapFile.Close()
		}
		return nil, nil, err
	}
	return s, func() {
		s.Close()
		if pcapFile != nil {
			pcapFile.Close()
		}
	}, nil
}

// describeOffloads names what the device agreed to, e.g. "csum tso4 tso6",
// or "none".
func describeOffloads(o link.Offloads) string {
	var names []string
	for _, f := range []struct {
		on   bool
		name string
	}{{o.Checksum, "csum"}, {o.TSO4, "tso4"}, {o.TSO6, "tso6"}, {o.USO4, "uso4"}, {o.USO6, "uso6"}} {
		if f.on {
			names = append(names, f.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}
