// Package netstack runs wireguard-go's userspace tunnels on a threeway
// stack. It mirrors golang.zx2c4.com/wireguard/tun/netstack: CreateNetTUN
// returns a tun.Device for device.NewDevice and a *Net whose methods
// (DialContext, DialContextTCP, DialUDP, ListenTCP, ListenUDP,
// LookupHost, ...) dial and listen inside the tunnel, so a program moves
// from gVisor to threeway by changing one import path.
package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
	"golang.zx2c4.com/wireguard/tun"
)

// batchSize is how many packets one Read or Write of the device moves.
const batchSize = 64

// device is the tun.Device side of a threeway stack: the two are joined by
// an in-memory link.Pipe, whose far end the device reads (packets the
// stack sends, for wireguard-go to encrypt) and writes (packets
// wireguard-go decrypted, for the stack).
type device struct {
	end    *link.PipeEnd
	stack  *threeway.Stack
	mtu    int
	events chan tun.Event

	readMu   sync.Mutex
	readBufs [][]byte // scratch: bufs[i][offset:], guarded by readMu

	writeMu   sync.Mutex
	writeBufs [][]byte // scratch, guarded by writeMu

	closeOnce sync.Once
}

// Net dials and listens inside the tunnel. Its methods are those of
// wireguard-go's netstack.Net, returning threeway's connection types.
type Net struct {
	stack        *threeway.Stack
	dnsServers   []netip.Addr
	hasV4, hasV6 bool
}

// CreateNetTUN starts a threeway stack with localAddresses (each with a
// full-length prefix, as wireguard-go's gVisor version gives them) on a
// link of the given MTU, and returns it as a tun.Device plus the *Net
// that uses it. dnsServers are asked by LookupHost and DialContext,
// through the tunnel.
func CreateNetTUN(localAddresses, dnsServers []netip.Addr, mtu int) (tun.Device, *Net, error) {
	return CreateNetTUNWithOptions(localAddresses, dnsServers, mtu, threeway.Options{})
}

// CreateNetTUNWithOptions is CreateNetTUN with the stack's other options
// (TCP tuning, a tracer, a clock); opts.Link and opts.Addrs are set here.
func CreateNetTUNWithOptions(localAddresses, dnsServers []netip.Addr, mtu int, opts threeway.Options) (tun.Device, *Net, error) {
	if mtu <= 0 {
		return nil, nil, fmt.Errorf("netstack: invalid MTU %d", mtu)
	}
	n := &Net{dnsServers: append([]netip.Addr(nil), dnsServers...)}
	opts.Addrs = nil
	for _, a := range localAddresses {
		if !a.IsValid() {
			return nil, nil, fmt.Errorf("netstack: invalid address %v", a)
		}
		a = a.Unmap()
		opts.Addrs = append(opts.Addrs, netip.PrefixFrom(a, a.BitLen()))
		if a.Is4() {
			n.hasV4 = true
		} else {
			n.hasV6 = true
		}
	}
	ours, theirs := link.Pipe(link.PipeConfig{MTU: mtu})
	opts.Link = ours
	s, err := threeway.New(opts)
	if err != nil {
		return nil, nil, err
	}
	n.stack = s
	d := &device{end: theirs, stack: s, mtu: mtu, events: make(chan tun.Event, 10),
		readBufs: make([][]byte, batchSize), writeBufs: make([][]byte, 0, batchSize)}
	d.events <- tun.EventUp
	return d, n, nil
}

// Stack returns the threeway stack behind n, for its statistics and
// options.
func (n *Net) Stack() *threeway.Stack { return n.stack }

func (d *device) File() *os.File           { return nil }
func (d *device) Name() (string, error)    { return "threeway", nil }
func (d *device) MTU() (int, error)        { return d.mtu, nil }
func (d *device) Events() <-chan tun.Event { return d.events }
func (d *device) BatchSize() int           { return batchSize }

// Read takes packets the stack sent, for wireguard-go to send to a peer.
func (d *device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	d.readMu.Lock()
	defer d.readMu.Unlock()
	k := min(len(bufs), len(d.readBufs))
	for i := 0; i < k; i++ {
		d.readBufs[i] = bufs[i][offset:]
	}
	n, err := d.end.ReadPackets(d.readBufs[:k], sizes)
	clear(d.readBufs[:k])
	if errors.Is(err, link.ErrClosed) {
		return 0, os.ErrClosed
	}
	return n, err
}

// Write gives the stack packets wireguard-go received from a peer.
func (d *device) Write(bufs [][]byte, offset int) (int, error) {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	pkts := d.writeBufs[:0]
	for _, b := range bufs {
		// Packets past the MTU are the peer's error; drop them alone.
		if p := b[offset:]; len(p) > 0 && len(p) <= d.mtu {
			pkts = append(pkts, p)
		}
	}
	err := d.end.WritePackets(pkts)
	clear(pkts)
	d.writeBufs = pkts[:0]
	if errors.Is(err, link.ErrClosed) {
		return 0, os.ErrClosed
	}
	if err != nil {
		return 0, err
	}
	return len(bufs), nil
}

// Close stops the stack and the device.
func (d *device) Close() error {
	d.closeOnce.Do(func() {
		d.stack.Close()
		d.end.Close()
		close(d.events)
	})
	return nil
}
