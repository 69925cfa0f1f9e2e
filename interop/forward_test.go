package interop

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The forward tests' topology, three namespaces of the test's own:
//
//	client (kernel)  --TUN-->  proxy (threeway forward)  --veth-->  server (kernel)
//	192.0.2.1                  TUN side 192.0.2.2                   198.51.100.2
//	2001:db8::1                upstream 198.51.100.1                2001:db8:1::2
//
// The client's default routes point into the TUN, so every connection
// it makes, to any address, reaches threeway. The proxy's own kernel
// sockets live in the proxy namespace, whose routes lead to the server:
// they cannot loop back into the TUN. The TUN is made in the proxy
// namespace, attached to by `threeway forward`, then moved into the
// client's. In the proxy namespace 203.0.113.200 is an unreachable route
// and the rest of 203.0.113.0/24 goes to the server namespace, which
// does not forward: a silent destination.
const (
	fwdServer4    = "198.51.100.2"
	fwdServer6    = "2001:db8:1::2"
	fwdUnreach    = "203.0.113.200"
	fwdSilent     = "203.0.113.5"
	fwdFloodRange = "203.0.113.0/25"
)

type forwardNet struct {
	t                     testing.TB
	client, proxy, server string
	proxyCmd              *exec.Cmd
	proxyOut, proxyErr    *syncBuffer
	proxyDone             chan error
	pcap                  string
	serverPeers           []*fwdPeer
	stopped               bool
	counters              map[string]string
}

var fwdCounter int

// fwdMTU, if set, is the TUN's MTU (benchmarks try jumbo frames).
var fwdMTU int

// fwdNoCapture, if set, runs the proxy without --pcap: a throughput
// benchmark measures the proxy, not its capture file.
var fwdNoCapture bool

// newForwardNet builds the topology and starts `threeway forward` with
// extra flags, an HTTP server on 8080, a half-close server on 9000/9001,
// and a SOCKS5 server on 1080 in the server namespace.
func newForwardNet(t testing.TB, extra ...string) *forwardNet {
	t.Helper()
	needEnv(t)
	fwdCounter++
	base := fmt.Sprintf("twf%d-%d", os.Getpid(), fwdCounter)
	n := &forwardNet{t: t, client: base + "c", proxy: base + "p", server: base + "s",
		proxyOut: &syncBuffer{}, proxyErr: &syncBuffer{}, proxyDone: make(chan error, 1),
		pcap: filepath.Join(t.TempDir(), "forward.pcap")}
	for _, ns := range []string{n.client, n.proxy, n.server} {
		run(t, "ip", "netns", "add", ns)
		ns := ns
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	veth := fmt.Sprintf("twv%d", os.Getpid()%100000)
	run(t, "ip", "-n", n.proxy, "link", "add", veth+"a", "type", "veth", "peer", "name", veth+"b", "netns", n.server)
	ipn := func(ns string, args ...string) { run(t, "ip", append([]string{"-n", ns}, args...)...) }
	ipn(n.proxy, "addr", "add", "198.51.100.1/24", "dev", veth+"a")
	ipn(n.proxy, "-6", "addr", "add", "2001:db8:1::1/64", "dev", veth+"a", "nodad")
	ipn(n.proxy, "link", "set", veth+"a", "up")
	ipn(n.server, "addr", "add", fwdServer4+"/24", "dev", veth+"b")
	ipn(n.server, "-6", "addr", "add", fwdServer6+"/64", "dev", veth+"b", "nodad")
	ipn(n.server, "link", "set", veth+"b", "up")
	ipn(n.proxy, "route", "add", "203.0.113.0/24", "via", fwdServer4)
	ipn(n.proxy, "route", "add", "unreachable", fwdUnreach+"/32")

	n.serverPeers = append(n.serverPeers,
		n.startPeer(n.server, "http", fwdServer4+":8080,["+fwdServer6+"]:8080"),
		n.startPeer(n.server, "halfclose", fwdServer4+":9000"),
		n.startPeer(n.server, "socks5", fwdServer4+":1080"))

	ipn(n.proxy, "tuntap", "add", "dev", "tw0", "mode", "tun")
	if fwdMTU != 0 {
		ipn(n.proxy, "link", "set", "tw0", "mtu", strconv.Itoa(fwdMTU))
	}
	args := []string{"netns", "exec", n.proxy, threewayBin, "forward", "--tun", "tw0",
		"--addr", "192.0.2.2/24", "--addr", "2001:db8::2/64"}
	if fwdNoCapture {
		n.pcap = ""
	} else {
		args = append(args, "--pcap", n.pcap)
	}
	args = append(args, extra...)
	n.proxyCmd = exec.Command("ip", args...)
	n.proxyCmd.Stdout, n.proxyCmd.Stderr = n.proxyOut, n.proxyErr
	if err := n.proxyCmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.proxyDone <- n.proxyCmd.Wait() }()
	t.Cleanup(func() { n.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.proxyErr.String(), "forwarding on") {
		if time.Now().After(deadline) {
			t.Fatalf("threeway forward did not start: %s", n.proxyErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Move the attached TUN to the client and route everything into it.
	ipn(n.proxy, "link", "set", "tw0", "netns", n.client)
	ipn(n.client, "addr", "add", "192.0.2.1/24", "dev", "tw0")
	ipn(n.client, "-6", "addr", "add", "2001:db8::1/64", "dev", "tw0", "nodad")
	ipn(n.client, "link", "set", "tw0", "up")
	ipn(n.client, "route", "add", "default", "dev", "tw0")
	ipn(n.client, "-6", "route", "add", "default", "dev", "tw0")
	return n
}

// stop sends SIGINT to the proxy, waits for it, and parses its counters.
func (n *forwardNet) stop() map[string]string {
	if n.stopped {
		return n.counters
	}
	n.stopped = true
	n.proxyCmd.Process.Signal(os.Interrupt)
	select {
	case err := <-n.proxyDone:
		if err != nil {
			n.t.Errorf("threeway forward exited with %v\n%s", err, n.proxyErr.String())
		}
	case <-time.After(10 * time.Second):
		n.proxyCmd.Process.Kill()
		<-n.proxyDone
		n.t.Errorf("threeway forward did not stop on SIGINT")
	}
	n.counters = map[string]string{}
	for _, line := range strings.Split(n.proxyOut.String(), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			n.counters[k] = v
		}
	}
	if n.pcap != "" {
		checkCapture(n.t, n.pcap)
	}
	return n.counters
}

func (n *forwardNet) counter(k string) int {
	v, _ := strconv.Atoi(n.stop()[k])
	return v
}

// fwdPeer is a forward peer program running in a namespace.
type fwdPeer struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func (n *forwardNet) peerCmd(ns, mode, arg string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		n.t.Fatal(err)
	}
	c := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^$", arg)
	c.Env = append(os.Environ(), forwardPeerEnv+"="+mode)
	return c
}

// startPeer starts a listening peer and waits until it listens.
func (n *forwardNet) startPeer(ns, mode, arg string) *fwdPeer {
	n.t.Helper()
	p := &fwdPeer{cmd: n.peerCmd(ns, mode, arg), out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	n.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), "listening") {
		if time.Now().After(deadline) || strings.Contains(p.out.String(), "error") {
			n.t.Fatalf("%s peer did not start: %s", mode, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// runPeer runs a client peer in the client namespace and returns its
// output.
func (n *forwardNet) runClient(mode, arg string) string {
	n.t.Helper()
	out, err := n.peerCmd(n.client, mode, arg).CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s %s: %v\n%s", mode, arg, err, out)
	}
	return strings.TrimSpace(string(out))
}

// inClient runs a command in the client namespace.
func (n *forwardNet) inClient(stdin io.Reader, name string, args ...string) (string, error) {
	c := exec.Command("ip", append([]string{"netns", "exec", n.client, name}, args...)...)
	c.Stdin = stdin
	out, err := c.CombinedOutput()
	return string(out), err
}

func patternSHA(n int) string {
	h := sha256.New()
	buf := pattern(251 * 256)
	for n > 0 {
		k := min(n, len(buf))
		h.Write(buf[:k])
		n -= k
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestForwardKernelClientThroughTUN: a kernel client whose default route
// is the TUN reaches kernel servers through `threeway forward`, over IPv4
// and IPv6, and sees what it would see without the proxy: whole
// transfers, refused ports refused, unreachable hosts unreachable, silent
// hosts silent, and half-closes in both directions.
func TestForwardKernelClientThroughTUN(t *testing.T) {
	n := newForwardNet(t, "--dial-timeout", "2s")
	const size = 64 << 20
	want := patternSHA(size)
	for _, host := range []string{fwdServer4, "[" + fwdServer6 + "]"} {
		file := filepath.Join(t.TempDir(), "body")
		url := fmt.Sprintf("http://%s:8080/bytes/%d", host, size)
		if out, err := n.inClient(nil, "curl", "-sS", "--max-time", "60", "-o", file, url); err != nil {
			t.Fatalf("curl %s: %v\n%s", url, err, out)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		k, _ := io.Copy(h, f)
		f.Close()
		if got := hex.EncodeToString(h.Sum(nil)); k != size || got != want {
			t.Fatalf("%s: %d bytes, sha256 %s, want %d bytes %s", host, k, got, size, want)
		}
	}
	t.Run("200 parallel", func(t *testing.T) {
		out := n.runClient("get", fmt.Sprintf("http://%s:8080/bytes/65536,200,200", fwdServer4))
		if !strings.HasPrefix(out, "ok 200 fail 0") {
			t.Fatalf("parallel GETs: %s", out)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, a := range []string{fwdServer4 + ":8081", "[" + fwdServer6 + "]:8081"} {
			out := n.runClient("connect", a+",5s")
			var ms int
			fmt.Sscanf(out, "failed 111 %d", &ms) // ECONNREFUSED
			if !strings.HasPrefix(out, "failed 111 ") || ms > 1000 {
				t.Fatalf("%s: want ECONNREFUSED within a second, got %s", a, out)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		out := n.runClient("connect", fwdUnreach+":80,5s")
		if !strings.HasPrefix(out, "failed 113 ") { // EHOSTUNREACH, from our ICMP
			t.Fatalf("unreachable upstream: %s", out)
		}
	})
	t.Run("silent", func(t *testing.T) {
		out := n.runClient("connect", fwdSilent+":80,3s")
		if !strings.HasPrefix(out, "failed timeout ") {
			t.Fatalf("silent upstream: %s", out)
		}
	})
	t.Run("half-close client first", func(t *testing.T) {
		out, err := n.inClient(strings.NewReader("hello world\n"), "nc", "-N", "-w", "5", fwdServer4, "9000")
		if err != nil || strings.TrimSpace(out) != "got 12" {
			t.Fatalf("nc -N: %v %q", err, out)
		}
	})
	t.Run("half-close server first", func(t *testing.T) {
		// The server sends its banner and FIN first; the client reads it,
		// then sends and half-closes: the server reads that after its own
		// FIN. nc exits once both directions are done.
		r, w := io.Pipe()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(500 * time.Millisecond)
			io.WriteString(w, "late data\n")
			w.Close()
		}()
		out, err := n.inClient(r, "nc", "-N", "-w", "5", fwdServer4, "9001")
		wg.Wait()
		if err != nil || strings.TrimSpace(out) != "banner" {
			t.Fatalf("nc -N: %v %q", err, out)
		}
		hc := n.serverPeers[1]
		waitForText(t, hc.out, `after-fin "late data\n" <nil>`)
	})
	if got := n.counter("Forward.Duplicates"); got < 0 {
		t.Fatal(got)
	}
	if n.counter("Proxy.UpstreamRefused") < 2 || n.counter("Proxy.UpstreamUnreachable") < 1 || n.counter("Proxy.UpstreamTimeouts") < 1 {
		t.Errorf("counters: %v", n.stop())
	}
}

func waitForText(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("want %q in %q", s, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestForwardThroughSocks5: with --socks5 the proxy reaches destinations
// through a SOCKS5 server (the test's own, in the server namespace), and
// a refusal behind it still reaches the client as ECONNREFUSED.
func TestForwardThroughSocks5(t *testing.T) {
	n := newForwardNet(t, "--socks5", fwdServer4+":1080")
	out := n.runClient("get", fmt.Sprintf("http://[%s]:8080/bytes/1000000,20,10", fwdServer6))
	if !strings.HasPrefix(out, "ok 20 fail 0") {
		t.Fatalf("GETs through SOCKS5: %s", out)
	}
	socks := n.serverPeers[2]
	waitForText(t, socks.out, "socks connect ["+fwdServer6+"]:8080 20")
	out = n.runClient("connect", fwdServer4+":8081,5s")
	if !strings.HasPrefix(out, "failed 111 ") {
		t.Fatalf("refused behind SOCKS5: %s", out)
	}
	hc, err := n.inClient(strings.NewReader("abc\n"), "nc", "-N", "-w", "5", fwdServer4, "9000")
	if err != nil || strings.TrimSpace(hc) != "got 4" {
		t.Fatalf("half-close through SOCKS5: %v %q", err, hc)
	}
}

// TestForwardSynFlood: spoofed SYNs to random destinations (silent ones:
// every upstream dial hangs) fill the pending bound, which holds; SYN
// cookies let legitimate connections complete meanwhile (>= 99%), and the
// proxy's memory stays bounded (its peak RSS is logged).
func TestForwardSynFlood(t *testing.T) {
	const maxPending = 256
	n := newForwardNet(t, "--max-pending", strconv.Itoa(maxPending), "--dial-timeout", "2s")
	flood := n.peerCmd(n.client, "flood", fwdFloodRange+",30000,4")
	var floodOut syncBuffer
	flood.Stdout, flood.Stderr = &floodOut, &floodOut
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the bound fill
	out := n.runClient("get", fmt.Sprintf("http://%s:8080/bytes/10000,400,20", fwdServer4))
	if err := flood.Wait(); err != nil {
		t.Fatalf("flood: %v %s", err, floodOut.String())
	}
	var ok, bad int
	fmt.Sscanf(out, "ok %d fail %d", &ok, &bad)
	rss := peakRSS(n.proxyCmd.Process.Pid)
	if ok*100 < (ok+bad)*99 || ok+bad != 400 {
		t.Errorf("legitimate connections under flood: %s", out)
	}
	seen, cookies := n.counter("Forward.MaxPendingSeen"), n.counter("Forward.CookiesSent")
	t.Logf("flood: %s; legitimate: %s; max pending %d (bound %d), cookies sent %d, proxy peak RSS %d KiB",
		strings.TrimSpace(floodOut.String()), out, seen, maxPending, cookies, rss)
	if seen > maxPending || seen < maxPending/2 || cookies == 0 {
		t.Errorf("pending high-water %d (bound %d), cookies %d: the flood did not reach or broke the bound", seen, maxPending, cookies)
	}
}
