// Command fastopen measures what TCP Fast Open (RFC 7413) saves: the time
// of an HTTP GET over a fresh connection, with and without Fast Open, on
// a path of 10 ms each way.
//
//	cd bench && go run ./fastopen [-n 40]
//
// Rows: threeway client and server on a link.Pipe with 10 ms of delay each
// way; and, as root, the Linux kernel on both ends of a veth pair between
// two network namespaces this program creates (TCP_FASTOPEN_CONNECT on the client, TCP_FASTOPEN on the
// listener), and the kernel facing a threeway stack either way; each end
// of those rows is a namespace behind a TUN device, relayed by this
// program through a link.Pipe with the same delay. gVisor has no Fast Open, so the kernel is the anchor. Each
// figure is the median of n GETs after one warm-up that fetches the cookie.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/link/tun"
)

const (
	oneWay             = 10 * time.Millisecond
	tcpFastOpen        = 23 // Linux TCP_FASTOPEN (listener queue length)
	tcpFastOpenConnect = 30 // Linux TCP_FASTOPEN_CONNECT
	body               = "hello from a fresh connection\n"
)

func main() {
	n := flag.Int("n", 40, "GETs per figure")
	mode := flag.String("mode", "", "internal: kernel-server or kernel-client inside a namespace")
	tfo := flag.Bool("tfo", false, "internal: the kernel client uses Fast Open")
	addr := flag.String("addr", "", "internal: address")
	flag.Parse()
	switch *mode {
	case "kernel-server":
		kernelServer(*addr)
		return
	case "kernel-client":
		d, err := kernelGets(*addr, *tfo, *n)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(d.Microseconds())
		return
	}
	fmt.Printf("HTTP GET on a fresh connection, %v each way, median of %d\n\n", oneWay, *n)
	fmt.Println("| peers | without Fast Open (ms) | with Fast Open (ms) | saved (ms) | saved / RTT |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	row := func(name string, off, on time.Duration) {
		saved := off - on
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.2f |\n", name, ms(off), ms(on), ms(saved), float64(saved)/float64(2*oneWay))
	}
	off, on, err := threewayGets(*n)
	if err != nil {
		fatal(err)
	}
	row("threeway ↔ threeway, link.Pipe", off, on)
	if os.Geteuid() != 0 {
		fmt.Println("\n(not root: the kernel row needs network namespaces)")
		return
	}
	rows, err := kernelRows(*n)
	for _, r := range rows {
		row(r.name, r.off, r.on)
	}
	if err != nil {
		fatal(err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "fastopen:", err)
	os.Exit(1)
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// threewayGets runs n GETs without and n with Fast Open between two
// threeway stacks.
func threewayGets(n int) (off, on time.Duration, err error) {
	a, b := link.Pipe(link.PipeConfig{
		AtoB: link.Impairments{Delay: oneWay}, BtoA: link.Impairments{Delay: oneWay}, QueueLen: 8192,
	})
	client, err := threeway.New(threeway.Options{Link: a, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}})
	if err != nil {
		return 0, 0, err
	}
	defer client.Close()
	server, err := threeway.New(threeway.Options{Link: b, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}})
	if err != nil {
		return 0, 0, err
	}
	defer server.Close()
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		return 0, 0, err
	}
	ln.(*threeway.Listener).SetFastOpen(64)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
	if off, err = threewayClientGets(client, "192.0.2.2:80", false, n); err != nil {
		return 0, 0, err
	}
	on, err = threewayClientGets(client, "192.0.2.2:80", true, n)
	return off, on, err
}

// threewayClientGets times n GETs from a threeway client stack.
func threewayClientGets(client *threeway.Stack, addr string, fastOpen bool, n int) (time.Duration, error) {
	d := &threeway.Dialer{Stack: client, FastOpen: fastOpen}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext}}
	return timeGets(hc, "http://"+addr+"/", n)
}

// timeGets does one warm-up GET, then n timed ones, and returns the median.
func timeGets(hc *http.Client, url string, n int) (time.Duration, error) {
	var d []time.Duration
	for i := 0; i <= n; i++ {
		start := time.Now()
		resp, err := hc.Get(url)
		if err != nil {
			return 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != body {
			return 0, fmt.Errorf("GET: %q, %v", b, err)
		}
		if i > 0 {
			d = append(d, time.Since(start))
		}
	}
	return median(d), nil
}

// The kernel rows: each end is either the kernel, in a network namespace
// of its own behind a TUN device, or a threeway stack; the bench relays
// packets between the two through a link.Pipe with 10 ms each way (netem
// is not in every kernel, a pipe is). Everything created is removed
// before kernelRows returns.
const (
	clientIP = "198.51.100.1"
	serverIP = "198.51.100.2"
)

type kernelRowResult struct {
	name    string
	off, on time.Duration
}

func kernelRows(n int) ([]kernelRowResult, error) {
	pid := os.Getpid()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var rows []kernelRowResult
	for _, r := range []struct {
		name                       string
		kernelClient, kernelServer bool
	}{
		{"Linux ↔ Linux, TUNs relayed by a link.Pipe", true, true},
		{"Linux client ↔ threeway server", true, false},
		{"threeway client ↔ Linux server", false, true},
	} {
		off, on, err := kernelRow(pid, exe, n, r.kernelClient, r.kernelServer)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", r.name, err)
		}
		rows = append(rows, kernelRowResult{r.name, off, on})
	}
	return rows, nil
}

// kernelEnd is one end of a kernel row: a namespace with a TUN device
// whose other side (the fd) this process relays.
type kernelEnd struct {
	ns  string
	dev *tun.Device
}

func newKernelEnd(name, addr string) (*kernelEnd, error) {
	dev, err := tun.Open(name, 1500)
	if err != nil {
		return nil, err
	}
	e := &kernelEnd{ns: name, dev: dev}
	for _, c := range [][]string{
		{"ip", "netns", "add", name},
		// The open fd keeps working after the device moves.
		{"ip", "link", "set", "dev", name, "netns", name},
		{"ip", "-n", name, "addr", "add", addr + "/24", "dev", name},
		{"ip", "-n", name, "link", "set", name, "up"},
		{"ip", "-n", name, "link", "set", "lo", "up"},
		{"ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.tcp_fastopen=3"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			e.close()
			return nil, fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return e, nil
}

func (e *kernelEnd) close() {
	e.dev.Close()
	exec.Command("ip", "netns", "del", e.ns).Run()
}

// relay copies packets from one link to the other until either closes.
func relay(from, to link.Link) {
	bufs := make([][]byte, 64)
	for i := range bufs {
		bufs[i] = make([]byte, 65536)
	}
	sizes := make([]int, len(bufs))
	pkts := make([][]byte, len(bufs))
	for {
		k, err := from.ReadPackets(bufs, sizes)
		if err != nil {
			return
		}
		for i := 0; i < k; i++ {
			pkts[i] = bufs[i][:sizes[i]]
		}
		if to.WritePackets(pkts[:k]) != nil {
			return
		}
	}
}

func kernelRow(pid int, exe string, n int, kernelClient, kernelServer bool) (off, on time.Duration, err error) {
	a, b := link.Pipe(link.PipeConfig{AtoB: link.Impairments{Delay: oneWay}, BtoA: link.Impairments{Delay: oneWay}, QueueLen: 8192})
	defer a.Close()
	defer b.Close()
	var ends []*kernelEnd
	defer func() {
		for _, e := range ends {
			e.close()
		}
	}()
	var stacks []*threeway.Stack
	defer func() {
		for _, s := range stacks {
			s.Close()
		}
	}()
	attach := func(end *link.PipeEnd, kernel bool, role, addr string) (*threeway.Stack, error) {
		if !kernel {
			s, err := threeway.New(threeway.Options{Link: end, Addrs: []netip.Prefix{netip.MustParsePrefix(addr + "/24")}})
			if err == nil {
				stacks = append(stacks, s)
			}
			return s, err
		}
		e, err := newKernelEnd(fmt.Sprintf("twfo%s%d", role, pid), addr)
		if err != nil {
			return nil, err
		}
		ends = append(ends, e)
		go relay(e.dev, end)
		go relay(end, e.dev)
		return nil, nil
	}
	clientStack, err := attach(a, kernelClient, "c", clientIP)
	if err != nil {
		return 0, 0, err
	}
	serverStack, err := attach(b, kernelServer, "s", serverIP)
	if err != nil {
		return 0, 0, err
	}
	addr := serverIP + ":80"
	if kernelServer {
		srv := exec.Command("ip", "netns", "exec", ends[len(ends)-1].ns, exe, "-mode", "kernel-server", "-addr", addr)
		stdout, _ := srv.StdoutPipe()
		if err := srv.Start(); err != nil {
			return 0, 0, err
		}
		defer func() { srv.Process.Kill(); srv.Wait() }()
		ready := make([]byte, 6)
		if _, err := io.ReadFull(stdout, ready); err != nil {
			return 0, 0, fmt.Errorf("kernel server: %w", err)
		}
	} else {
		ln, err := serverStack.Listen("tcp", ":80")
		if err != nil {
			return 0, 0, err
		}
		ln.(*threeway.Listener).SetFastOpen(64)
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
	}
	gets := func(tfo bool) (time.Duration, error) {
		if !kernelClient {
			return threewayClientGets(clientStack, addr, tfo, n)
		}
		out, err := exec.Command("ip", "netns", "exec", ends[0].ns, exe, "-mode", "kernel-client",
			"-addr", addr, fmt.Sprintf("-tfo=%v", tfo), fmt.Sprintf("-n=%d", n)).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("kernel client: %v: %s", err, out)
		}
		var us int64
		if _, err := fmt.Sscan(string(out), &us); err != nil {
			return 0, fmt.Errorf("kernel client said %q", out)
		}
		return time.Duration(us) * time.Microsecond, nil
	}
	if off, err = gets(false); err != nil {
		return 0, 0, err
	}
	on, err = gets(true)
	return off, on, err
}

func setInt(opt, v int) func(_, _ string, rc syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, opt, v) }); err != nil {
			return err
		}
		return serr
	}
}

// kernelServer serves HTTP from a Fast Open listener until killed.
func kernelServer(addr string) {
	lc := net.ListenConfig{Control: setInt(tcpFastOpen, 64)}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		fatal(err)
	}
	fmt.Println("ready")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
}

// kernelGets runs n timed GETs from the kernel's sockets; with tfo the
// dialer sets TCP_FASTOPEN_CONNECT, so connect returns at once and the
// request rides in the SYN.
func kernelGets(addr string, tfo bool, n int) (time.Duration, error) {
	d := &net.Dialer{}
	if tfo {
		d.Control = setInt(tcpFastOpenConnect, 1)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: d.DialContext}}
	return timeGets(hc, "http://"+addr+"/", n)
}
