package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/link/tun"
)

// Linux socket options for TCP Fast Open (include/uapi/linux/tcp.h).
const (
	tcpFastOpen        = 23 // on a listener: the Fast Open queue length
	tcpFastOpenConnect = 30 // on a client: connect() returns at once, the first write rides in the SYN
)

// fastOpenExchanges is how many connections each Fast Open test makes: the
// first fetches a cookie, the rest carry their data in the SYN.
const fastOpenExchanges = 3

// TestKernelFastOpenClientToThreeway: the kernel's client, with
// TCP_FASTOPEN_CONNECT, against a threeway listener with Fast Open on.
func TestKernelFastOpenClientToThreeway(t *testing.T) {
	n := newNetns(t, "net.ipv4.tcp_fastopen=3")
	pcap := filepath.Join(n.dir, "threeway-tfo-server.pcap")
	stdin, release := pipe(t)
	srv := n.startPeer("tfo-threeway-server", pcap+",:7000", stdin)
	srv.waitFor(t, "listening", 10*time.Second)
	for _, host := range []string{threeway4, "[" + threeway6 + "]"} {
		out, err := n.startPeer("tfo-kernel-client", host+":7000", nil).wait(30 * time.Second)
		if err != nil || !strings.Contains(out, "ok") {
			t.Fatalf("kernel client to %s: %v\n%s", host, err, out)
		}
	}
	release.Close()
	out, err := srv.wait(10 * time.Second)
	if err != nil {
		t.Fatalf("threeway server: %v\n%s", err, out)
	}
	// Per family: one cookie request, then SYNs with data accepted.
	if want := fmt.Sprintf("FastOpenPassive=%d FastOpenCookieReqd=2", 2*(fastOpenExchanges-1)); !strings.Contains(out, want) {
		t.Fatalf("server counters: want %q in\n%s", want, out)
	}
	checkCapture(t, pcap)
	checkSynData(t, pcap, 2*(fastOpenExchanges-1))
}

// TestThreewayFastOpenClientToKernel: threeway's Fast Open connect
// against a kernel listener with TCP_FASTOPEN.
func TestThreewayFastOpenClientToKernel(t *testing.T) {
	n := newNetns(t, "net.ipv4.tcp_fastopen=3")
	stdin, release := pipe(t)
	srv := n.startPeer("tfo-kernel-server", ":7001", stdin)
	srv.waitFor(t, "listening", 10*time.Second)
	pcap := filepath.Join(n.dir, "threeway-tfo-client.pcap")
	for _, host := range []string{kernel4, "[" + kernel6 + "]"} {
		out, err := n.startPeer("tfo-threeway-client", pcap+"."+strings.Trim(host, "[]")+","+host+":7001", nil).wait(30 * time.Second)
		if err != nil || !strings.Contains(out, fmt.Sprintf("FastOpenActive=%d synDataAcked=%d", fastOpenExchanges-1, fastOpenExchanges-1)) {
			t.Fatalf("threeway client to %s: %v\n%s", host, err, out)
		}
		path := pcap + "." + strings.Trim(host, "[]")
		checkCapture(t, path)
		checkSynData(t, path, fastOpenExchanges-1)
	}
	release.Close()
	if out, err := srv.wait(10 * time.Second); err != nil {
		t.Fatalf("kernel server: %v\n%s", err, out)
	}
}

// checkSynData counts, with tshark, the SYNs in a capture that carried
// data and a Fast Open cookie, and the SYN-ACKs that acknowledged it.
func checkSynData(t *testing.T, path string, want int) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Logf("tshark not installed: SYN data in %s not checked", path)
		return
	}
	lines := func(filter string) int {
		out, err := exec.Command("tshark", "-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("tshark -r %s: %v", path, err)
		}
		return len(strings.Fields(string(out)))
	}
	syns := lines("tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0 && tcp.option_kind == 34")
	acked := lines("tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.ack > 1")
	if syns != want || acked != want {
		t.Fatalf("%s: %d SYNs with data and a cookie, %d SYN-ACKs acknowledging data; want %d of each", path, syns, acked, want)
	}
}

// fastOpenPeer runs the Fast Open peers inside the namespace; it reports
// false for a mode it does not know.
func fastOpenPeer(mode, arg string) (int, bool) {
	fail := func(err error) (int, bool) {
		fmt.Println("error:", err)
		return 1, true
	}
	switch mode {
	case "tfo-kernel-client":
		for i := 0; i < fastOpenExchanges; i++ {
			if err := kernelFastOpenEcho(arg, fmt.Sprintf("hello %d\n", i)); err != nil {
				return fail(fmt.Errorf("exchange %d: %w", i, err))
			}
		}
		fmt.Println("ok")
	case "tfo-kernel-server":
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpFastOpen, 16)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		l, err := lc.Listen(context.Background(), "tcp", arg)
		if err != nil {
			return fail(err)
		}
		go echoAll(l)
		fmt.Println("listening")
		io.Copy(io.Discard, os.Stdin)
		l.Close()
	case "tfo-threeway-server":
		pcap, addr, _ := strings.Cut(arg, ",")
		s, closeAll, err := tunStackForPeer(pcap)
		if err != nil {
			return fail(err)
		}
		defer closeAll()
		ln, err := s.Listen("tcp", addr)
		if err != nil {
			return fail(err)
		}
		ln.(*threeway.Listener).SetFastOpen(16)
		go echoAll(ln)
		fmt.Println("listening")
		io.Copy(io.Discard, os.Stdin)
		st := s.Stats()
		fmt.Printf("FastOpenPassive=%d FastOpenCookieReqd=%d\n", st.FastOpenPassive, st.FastOpenCookieReqd)
	case "tfo-threeway-client":
		pcap, addr, _ := strings.Cut(arg, ",")
		s, closeAll, err := tunStackForPeer(pcap)
		if err != nil {
			return fail(err)
		}
		defer closeAll()
		acked := 0
		for i := 0; i < fastOpenExchanges; i++ {
			nc, err := (&threeway.Dialer{Stack: s, FastOpen: true}).Dial("tcp", addr)
			if err != nil {
				return fail(err)
			}
			c := nc.(*threeway.Conn)
			msg := fmt.Sprintf("hello %d\n", i)
			if err := echoCheck(c, msg); err != nil {
				return fail(fmt.Errorf("exchange %d: %w", i, err))
			}
			if c.Negotiated().SynData {
				acked++
			}
		}
		fmt.Printf("FastOpenActive=%d synDataAcked=%d\n", s.Stats().FastOpenActive, acked)
	default:
		return 0, false
	}
	return 0, true
}

// kernelFastOpenEcho makes one TCP_FASTOPEN_CONNECT connection with the
// kernel's sockets: connect returns at once and msg goes in the SYN when
// a cookie is cached.
func kernelFastOpenEcho(addr, msg string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	fam := syscall.AF_INET6
	var sa syscall.Sockaddr = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if ap.Addr().Is4() {
		fam = syscall.AF_INET
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	fd, err := syscall.Socket(fam, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "tfo")
	defer f.Close()
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, tcpFastOpenConnect, 1); err != nil {
		return fmt.Errorf("TCP_FASTOPEN_CONNECT: %w", err)
	}
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &syscall.Timeval{Sec: 10})
	if err := syscall.Connect(fd, sa); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if _, err := syscall.Write(fd, []byte(msg)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := syscall.Shutdown(fd, syscall.SHUT_WR); err != nil {
		return err
	}
	var got []byte
	buf := make([]byte, 256)
	for {
		k, err := syscall.Read(fd, buf)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if k == 0 {
			break
		}
		got = append(got, buf[:k]...)
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

func echoAll(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(c, c)
			c.Close()
		}()
	}
}

// echoCheck writes msg, half-closes and expects msg back.
func echoCheck(c *threeway.Conn, msg string) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	if err := c.CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

// tunStackForPeer starts a threeway stack on the namespace's TUN device,
// capturing to pcap.
func tunStackForPeer(pcap string) (*threeway.Stack, func(), error) {
	d, err := tun.Open(tunName, 0)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Create(pcap)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	w, err := link.NewPcapWriter(f, 65535)
	if err != nil {
		d.Close()
		f.Close()
		return nil, nil, err
	}
	s, err := threeway.New(threeway.Options{Link: link.Capture(d, w, clock.Real), Addrs: []netip.Prefix{
		netip.MustParsePrefix(threeway4 + "/24"), netip.MustParsePrefix(threeway6 + "/64"),
	}})
	if err != nil {
		d.Close()
		f.Close()
		return nil, nil, err
	}
	return s, func() { s.Close(); f.Close() }, nil
}
