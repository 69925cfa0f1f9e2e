package netstack_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	gvnetstack "golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/threeway-tcp/threeway/wireguard/netstack"
)

// Addresses inside the tunnel (documentation ranges, RFC 5737, RFC 3849).
var (
	addrA4 = netip.MustParseAddr("192.0.2.1")
	addrA6 = netip.MustParseAddr("2001:db8::1")
	addrB4 = netip.MustParseAddr("192.0.2.2")
	addrB6 = netip.MustParseAddr("2001:db8::2")
)

const tunnelMTU = 1420 // wireguard-go's default

// tunnelNet is what the tests use of either Net: threeway's or
// wireguard-go's gVisor one.
type tunnelNet interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
	LookupHost(host string) ([]string, error)
	listenTCP(addr netip.AddrPort) (net.Listener, error)
	listenUDP(addr netip.AddrPort) (net.PacketConn, error)
	dialPing(laddr, raddr netip.Addr) (net.Conn, error)
}

type threewayNet struct{ *netstack.Net }

func (n threewayNet) listenTCP(a netip.AddrPort) (net.Listener, error) { return n.ListenTCPAddrPort(a) }
func (n threewayNet) listenUDP(a netip.AddrPort) (net.PacketConn, error) {
	return n.ListenUDPAddrPort(a)
}

func (n threewayNet) dialPing(l, r netip.Addr) (net.Conn, error) { return n.DialPingAddr(l, r) }

type gvisorNet struct{ *gvnetstack.Net }

func (n gvisorNet) dialPing(l, r netip.Addr) (net.Conn, error) { return n.DialPingAddr(l, r) }

func (n gvisorNet) listenTCP(a netip.AddrPort) (net.Listener, error)   { return n.ListenTCPAddrPort(a) }
func (n gvisorNet) listenUDP(a netip.AddrPort) (net.PacketConn, error) { return n.ListenUDPAddrPort(a) }

// backend makes a tun.Device and its Net.
type backend struct {
	name   string
	create func(addrs, dns []netip.Addr, mtu int) (tun.Device, tunnelNet, error)
}

var backends = []backend{
	{"threeway", func(addrs, dns []netip.Addr, mtu int) (tun.Device, tunnelNet, error) {
		d, n, err := netstack.CreateNetTUN(addrs, dns, mtu)
		return d, threewayNet{n}, err
	}},
	{"gvisor", func(addrs, dns []netip.Addr, mtu int) (tun.Device, tunnelNet, error) {
		d, n, err := gvnetstack.CreateNetTUN(addrs, dns, mtu)
		return d, gvisorNet{n}, err
	}},
}

// tunnel is two wireguard-go devices peered over the kernel's UDP on
// 127.0.0.1, each on its own userspace stack.
type tunnel struct {
	devA, devB *device.Device
	a, b       tunnelNet
}

type keyPair struct{ priv, pub string }

func newKey(tb testing.TB) keyPair {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return keyPair{hex.EncodeToString(k.Bytes()), hex.EncodeToString(k.PublicKey().Bytes())}
}

// newTunnel builds A (192.0.2.1, 2001:db8::1) and B (.2, ::2); A's DNS
// server is B's IPv4 address.
func newTunnel(tb testing.TB, be backend) *tunnel {
	tb.Helper()
	kA, kB := newKey(tb), newKey(tb)
	mk := func(name string, addrs, dns []netip.Addr, k keyPair) (*device.Device, tunnelNet, int) {
		td, tn, err := be.create(addrs, dns, tunnelMTU)
		if err != nil {
			tb.Fatal(err)
		}
		dev := device.NewDevice(td, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, name))
		tb.Cleanup(dev.Close)
		if err := dev.IpcSet("private_key=" + k.priv + "\nlisten_port=0\n"); err != nil {
			tb.Fatal(err)
		}
		if err := dev.Up(); err != nil {
			tb.Fatal(err)
		}
		conf, err := dev.IpcGet()
		if err != nil {
			tb.Fatal(err)
		}
		var port int
		for _, line := range strings.Split(conf, "\n") {
			if v, ok := strings.CutPrefix(line, "listen_port="); ok {
				fmt.Sscan(v, &port)
			}
		}
		if port == 0 {
			tb.Fatalf("%s: no listen port in %q", name, conf)
		}
		return dev, tn, port
	}
	devA, netA, portA := mk("A", []netip.Addr{addrA4, addrA6}, []netip.Addr{addrB4}, kA)
	devB, netB, portB := mk("B", []netip.Addr{addrB4, addrB6}, nil, kB)
	peer := func(dev *device.Device, k keyPair, port int, ips ...netip.Addr) {
		conf := fmt.Sprintf("public_key=%s\nendpoint=127.0.0.1:%d\n", k.pub, port)
		for _, ip := range ips {
			conf += fmt.Sprintf("allowed_ip=%s\n", netip.PrefixFrom(ip, ip.BitLen()))
		}
		if err := dev.IpcSet(conf); err != nil {
			tb.Fatal(err)
		}
	}
	peer(devA, kB, portB, addrB4, addrB6)
	peer(devB, kA, portA, addrA4, addrA6)
	return &tunnel{devA: devA, devB: devB, a: netA, b: netB}
}

// close takes both devices down (their stacks with them) before the
// test's end.
func (tn *tunnel) close() {
	tn.devA.Close()
	tn.devB.Close()
}
