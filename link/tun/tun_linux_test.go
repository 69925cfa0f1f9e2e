//go:build linux

package tun

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// The device tests run inside a network namespace of their own: the
// parent test makes it and a TUN device with the kernel on 192.0.2.1, then
// runs this test binary inside it with innerEnv set.
const (
	innerEnv = "THREEWAY_TUN_INNER"
	devName  = "tt0"
)

var (
	kernelAddr = netip.MustParseAddr("192.0.2.1")
	ourAddr    = netip.MustParseAddr("192.0.2.2")
)

func TestDeviceInNamespace(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inner run")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, TUN devices)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed")
	}
	ns := fmt.Sprintf("twtun%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("-n", ns, "tuntap", "add", "dev", devName, "mode", "tun")
	run("-n", ns, "addr", "add", kernelAddr.String()+"/24", "dev", devName)
	run("-n", ns, "link", "set", devName, "up")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^TestInner", "-test.v", "-test.timeout=60s")
	c.Env = append(os.Environ(), innerEnv+"=1")
	out, err := c.CombinedOutput()
	t.Logf("inside %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("inner tests: %v", err)
	}
}

func inner(t *testing.T) {
	if os.Getenv(innerEnv) == "" {
		t.Skip("runs inside TestDeviceInNamespace's namespace")
	}
}

// synToClosedPort builds a TCP SYN from us to a closed port of the
// kernel, which answers each with a RST (RSTs are not rate-limited, as
// ICMP echo replies are).
func synToClosedPort() []byte {
	var o wire.Options
	tcpLen := wire.TCPSegmentLen(&o, 0)
	pkt := make([]byte, wire.IPv4HeaderLen+tcpLen)
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: ourAddr, Dst: kernelAddr, Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: tcpLen})
	seg := pkt[wire.IPv4HeaderLen:]
	wire.EncodeTCP(seg, &wire.TCPFields{SrcPort: 40000, DstPort: 9, Seq: 1, Flags: wire.FlagSYN, Window: 1000}, &o, nil)
	wire.TCP(seg).SetChecksum(wire.TCPChecksum(ourAddr, kernelAddr, seg))
	return pkt
}

// roundTrip writes the SYN and reads until the kernel's RST, checking
// that its checksum is whole or the header says it is partial. It
// reports false if the read failed (a deadline passed).
func roundTrip(t *testing.T, d *Device, req [][]byte, bufs [][]byte, sizes []int, info []link.PacketInfo) bool {
	if err := d.WritePacketsInfo(req, info[:1]); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := d.ReadPacketsInfo(bufs, sizes, info)
		if err != nil {
			return false
		}
		for i := range n {
			p := bufs[i][:sizes[i]]
			if info[i].Err != nil {
				t.Fatalf("kernel's packet refused: %v", info[i].Err)
			}
			if wire.IPVersion(p) != 4 || p[9] != wire.ProtoTCP || !wire.TCP(p[wire.IPv4HeaderLen:]).Flags().Has(wire.FlagRST) {
				continue
			}
			if seg := p[wire.IPv4HeaderLen:]; !info[i].PartialChecksum && !wire.VerifyTCPChecksum(kernelAddr, ourAddr, seg) {
				t.Fatalf("RST with a bad checksum and no partial-checksum mark")
			}
			return true
		}
	}
}

// With the virtio-net header the device negotiates the kernel's
// offloads, and a packet round trip through the kernel allocates nothing.
func TestInnerVnetDevice(t *testing.T) {
	inner(t)
	for _, vnet := range []bool{true, false} {
		t.Run(fmt.Sprint("vnet=", vnet), func(t *testing.T) {
			d, err := OpenOptions(devName, Options{VnetHdr: vnet})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			off := d.Offloads()
			if vnet && (!off.Checksum || !off.TSO4 || !off.TSO6 || off.MaxPacket < 65535) {
				t.Fatalf("offloads %+v", off)
			}
			if !vnet && off != (link.Offloads{MaxPacket: d.MTU()}) {
				t.Fatalf("plain device has offloads %+v", off)
			}
			req := [][]byte{synToClosedPort()}
			bufs := make([][]byte, 8)
			for i := range bufs {
				bufs[i] = make([]byte, 70000)
			}
			sizes := make([]int, 8)
			info := make([]link.PacketInfo, 8)
			// Until the kernel has activated the device (its link watch
			// runs asynchronously after the carrier comes up), what it
			// sends is dropped: retry the first round trip.
			for try := 0; ; try++ {
				d.f.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if roundTrip(t, d, req, bufs, sizes, info) {
					break
				}
				if try == 25 {
					t.Fatal("no RST from the kernel")
				}
			}
			d.f.SetReadDeadline(time.Time{})
			if a := testing.AllocsPerRun(200, func() {
				if !roundTrip(t, d, req, bufs, sizes, info) {
					t.Fatal("read failed")
				}
			}); a != 0 {
				t.Errorf("%.1f allocations per round trip, want 0", a)
			}
		})
	}
}
