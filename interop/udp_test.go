//go:build linux

package interop

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link/tun"
)

// inNetns runs f on a thread that has entered the namespace: the sockets
// and devices f opens belong to it, and keep working from any thread.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		orig, e := os.Open("/proc/thread-self/ns/net")
		if e != nil {
			err = e
			return // the locked thread ends with the goroutine
		}
		defer orig.Close()
		target, e := os.Open("/var/run/netns/" + ns)
		if e != nil {
			err = e
			return
		}
		defer target.Close()
		if e := setns(target); e != nil {
			err = e
			return
		}
		f()
		if setns(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	if err != nil {
		t.Fatal(err)
	}
}

// setns(2)'s number, which package syscall does not name on every
// architecture.
var sysSetns = map[string]uintptr{"amd64": 308, "arm64": 268, "386": 346, "riscv64": 268}[runtime.GOARCH]

func setns(f *os.File) error {
	if sysSetns == 0 {
		return errors.New("setns: unknown on " + runtime.GOARCH)
	}
	if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return os.NewSyscallError("setns", e)
	}
	return nil
}

// udpNet is a namespace with threeway on its TUN device, in this process.
func newUDPNet(t *testing.T) (*netns, *threeway.Stack) {
	n := newNetns(t)
	var dev *tun.Device
	var err error
	inNetns(t, n.name, func() { dev, err = tun.Open(tunName, 0) })
	if err != nil {
		t.Fatal(err)
	}
	s, err := threeway.New(threeway.Options{Link: dev, Addrs: []netip.Prefix{
		netip.MustParsePrefix(threeway4 + "/24"), netip.MustParsePrefix(threeway6 + "/64"),
	}})
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return n, s
}

// kernelUDP opens a kernel UDP socket inside the namespace: connected to
// raddr when it is set, else listening on laddr.
func kernelUDP(t *testing.T, n *netns, laddr, raddr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	var err error
	inNetns(t, n.name, func() {
		if raddr != "" {
			c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(raddr)))
		} else {
			c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(laddr)))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// roundTrip writes each message on c and expects it back.
func roundTrip(t *testing.T, what string, c net.Conn, sizes ...int) {
	t.Helper()
	buf := make([]byte, 65536)
	for _, size := range sizes {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		if _, err := c.Write(msg); err != nil {
			t.Fatalf("%s: write %d: %v", what, size, err)
		}
		k, err := c.Read(buf)
		if err != nil || !bytes.Equal(buf[:k], msg) {
			t.Fatalf("%s: echo of %d bytes: %d back, %v", what, size, k, err)
		}
	}
}

// The kernel's UDP and threeway's talk both ways, IPv4 and IPv6, with
// datagrams up to the TUN device's MTU.
func TestUDPWithKernel(t *testing.T) {
	n, s := newUDPNet(t)
	// threeway serves, the kernel asks.
	srv, err := s.ListenUDP("udp", &net.UDPAddr{Port: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			k, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:k], from)
		}
	}()
	// netcat (netcat-openbsd, which scripts/test.sh installs) as the
	// kernel's client: it sends its input as one datagram and prints what
	// comes back until it has been idle for -w seconds.
	for _, host := range []string{threeway4, threeway6} {
		nc := n.cmd("nc", "-u", "-w", "2", host, "7")
		nc.Stdin = strings.NewReader("hello from nc\n")
		out, err := nc.Output()
		if err != nil || string(out) != "hello from nc\n" {
			t.Errorf("nc -u %s: %q, %v", host, out, err)
		}
	}
	roundTrip(t, "kernel to threeway v4", kernelUDP(t, n, "", threeway4+":7"), 1, 100, 1500-28)
	roundTrip(t, "kernel to threeway v6", kernelUDP(t, n, "", "["+threeway6+"]:7"), 1, 100, 1500-48)

	// The kernel serves, threeway asks.
	for _, addr := range []string{kernel4 + ":9000", "[" + kernel6 + "]:9000"} {
		k := kernelUDP(t, n, addr, "")
		go func() {
			buf := make([]byte, 65536)
			for {
				m, from, err := k.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				k.WriteToUDPAddrPort(buf[:m], from)
			}
		}()
		c, err := s.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		max := 1500 - 28
		if addr[0] == '[' {
			max = 1500 - 48
		}
		roundTrip(t, "threeway to kernel "+addr, c, 1, 100, max)
		c.Close()
	}
}

// A closed port gives ICMP port unreachable both ways, and each side's
// connected socket reports ECONNREFUSED. The kernel's ICMP messages are
// rate limited (icmp_ratelimit, and a host-wide budget on older kernels),
// so each side asks again until it is told, for up to ten seconds.
func TestUDPClosedPortsWithKernel(t *testing.T) {
	n, s := newUDPNet(t)
	refused := func(c net.Conn) error {
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			c.Write([]byte("anyone?"))
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err = c.Read(make([]byte, 10))
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		return err
	}
	for _, addr := range []string{kernel4 + ":9", "[" + kernel6 + "]:9"} {
		c, err := s.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err != nil {
			t.Fatal(err)
		}
		if err := refused(c); err != nil {
			t.Errorf("threeway to the kernel's closed %s: %v", addr, err)
		}
		c.Close()
	}
	before := s.Stats().UDP.NoPorts
	for _, addr := range []string{threeway4 + ":9", "[" + threeway6 + "]:9"} {
		if err := refused(kernelUDP(t, n, "", addr)); err != nil {
			t.Errorf("kernel to threeway's closed %s: %v", addr, err)
		}
	}
	if st := s.Stats().UDP; st.NoPorts < before+2 {
		t.Errorf("threeway NoPorts = %d, was %d", st.NoPorts, before)
	}
}
