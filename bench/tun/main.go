// Command tun measures threeway on a Linux TUN device against the kernel,
// with and without the TUN offloads, and the kernel talking to itself
// over a veth pair in the same run as the reference:
//
//	kernel→threeway  a kernel sender to `threeway serve --app discard`
//	threeway→kernel  a kernel client fetching `threeway serve --app http`'s /bytes/N
//	kernel veth      a kernel sender to a kernel receiver, each in its own namespace
//
// at each MTU, in network namespaces it creates and removes (addresses
// from 192.0.2.0/24). Throughput is the median of the runs; CPU is the
// CPU time (user+system) of the processes at both ends per GB moved, so
// the kernel's TCP work done in those processes' syscalls counts too.
// It needs root. Run from bench/: `go run ./tun` (about two minutes).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const peerEnv = "TUNBENCH_PEER"

func main() {
	if mode := os.Getenv(peerEnv); mode != "" {
		os.Exit(runPeer(mode, os.Args[1:]))
	}
	size := flag.Int64("bytes", 1<<30, "bytes per run")
	runs := flag.Int("runs", 3, "runs per figure (the median is reported)")
	mtus := flag.String("mtus", "1500,9000", "MTUs to measure")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "tun: needs root (network namespaces, TUN devices)")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "tunbench")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "threeway")
	build := exec.Command("go", "build", "-o", bin, "github.com/threeway-tcp/threeway/cmd/threeway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	check(build.Run())

	fmt.Printf("TUN benchmark: %d bytes per run, median of %d; Gbit/s, CPU-seconds per GB (both ends), ratio to kernel veth\n\n", *size, *runs)
	fmt.Println("| MTU | path | Gbit/s | CPU s/GB | ratio to veth |")
	fmt.Println("|---:|---|---:|---:|---:|")
	for _, f := range strings.Split(*mtus, ",") {
		mtu, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		ref := median(*runs, func() result { return vethRun(mtu, *size) })
		row(mtu, "kernel veth (offloads on)", ref, ref)
		for _, offload := range []bool{true, false} {
			name := "threeway, offloads"
			if !offload {
				name = "threeway, plain TUN"
			}
			in, out := tunRuns(bin, mtu, *size, *runs, offload)
			row(mtu, "kernel→"+name, in, ref)
			row(mtu, name[:8]+"→kernel"+name[8:], out, ref)
		}
	}
}

type result struct {
	gbps, cpuPerGB float64
}

func row(mtu int, name string, r, ref result) {
	fmt.Printf("| %d | %s | %.2f | %.2f | %.2f× |\n", mtu, name, r.gbps, r.cpuPerGB, r.gbps/ref.gbps)
}

func median(runs int, f func() result) result {
	var rs []result
	for range runs {
		rs = append(rs, f())
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].gbps < rs[j].gbps })
	return rs[len(rs)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tun:", err)
		os.Exit(1)
	}
}

func sh(args ...string) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		check(fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out))
	}
}

var nsCount int

func newNS() string {
	nsCount++
	name := fmt.Sprintf("tb%d-%d", os.Getpid(), nsCount)
	sh("ip", "netns", "add", name)
	sh("ip", "-n", name, "link", "set", "lo", "up")
	return name
}

func delNS(name string) { exec.Command("ip", "netns", "del", name).Run() }

// peer runs this program as a kernel-side peer inside ns and returns
// its report: bytes, seconds, CPU seconds.
func peer(ns, mode string, args ...string) (*exec.Cmd, *bufio.Reader) {
	exe, err := os.Executable()
	check(err)
	c := exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
	c.Env = append(os.Environ(), peerEnv+"="+mode)
	c.Stderr = os.Stderr
	stdout, err := c.StdoutPipe()
	check(err)
	check(c.Start())
	return c, bufio.NewReader(stdout)
}

// report reads a peer's "ready" line (listeners) or final report.
func report(r *bufio.Reader) (n int64, secs, cpu float64) {
	line, err := r.ReadString('\n')
	check(err)
	if _, err := fmt.Sscan(line, &n, &secs, &cpu); err != nil {
		check(fmt.Errorf("peer said %q", line))
	}
	return
}

func waitLine(r *bufio.Reader, want string) {
	line, err := r.ReadString('\n')
	check(err)
	if strings.TrimSpace(line) != want {
		check(fmt.Errorf("peer said %q, want %q", line, want))
	}
}

// vethRun moves size bytes from a kernel sender to a kernel receiver
// over a veth pair at mtu, offloads on (the veth default).
func vethRun(mtu int, size int64) result {
	a, b := newNS(), newNS()
	defer delNS(a)
	defer delNS(b)
	sh("ip", "link", "add", "tbv0", "netns", a, "type", "veth", "peer", "name", "tbv1", "netns", b)
	sh("ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "tbv0")
	sh("ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "tbv1")
	for _, ns := range []string{a, b} {
		dev := map[string]string{a: "tbv0", b: "tbv1"}[ns]
		sh("ip", "-n", ns, "link", "set", dev, "mtu", strconv.Itoa(mtu), "up")
	}
	sink, sr := peer(a, "sink", "192.0.2.1:9")
	waitLine(sr, "listening")
	src, rr := peer(b, "source", "192.0.2.1:9", strconv.FormatInt(size, 10))
	n, secs, cpuSrc := report(rr)
	_, _, cpuSink := report(sr)
	src.Wait()
	sink.Wait()
	return result{gbps: float64(n) * 8 / secs / 1e9, cpuPerGB: (cpuSrc + cpuSink) / (float64(n) / 1e9)}
}

// tunRuns measures both directions between the kernel and one threeway
// process on a TUN device at mtu.
func tunRuns(bin string, mtu int, size int64, runs int, offload bool) (in, out result) {
	ns := newNS()
	defer delNS(ns)
	sh("ip", "-n", ns, "tuntap", "add", "dev", "tbt0", "mode", "tun")
	sh("ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "tbt0")
	sh("ip", "-n", ns, "link", "set", "tbt0", "mtu", strconv.Itoa(mtu), "up")
	serve := func(app string, port int) *exec.Cmd {
		c := exec.Command("ip", "netns", "exec", ns, bin, "serve", "--tun", "tbt0", "--addr", "192.0.2.2/24",
			"--listen", fmt.Sprintf(":%d", port), "--app", app, fmt.Sprintf("--offload=%t", offload))
		errs, err := c.StderrPipe()
		check(err)
		check(c.Start())
		r := bufio.NewReader(errs)
		for {
			line, err := r.ReadString('\n')
			check(err)
			if strings.Contains(line, "serving") {
				break
			}
		}
		go io.Copy(io.Discard, r)
		return c
	}
	stop := func(c *exec.Cmd) {
		c.Process.Signal(os.Interrupt)
		c.Wait()
	}
	d := serve("discard", 9)
	in = median(runs, func() result {
		before := procCPU(d.Process.Pid)
		src, rr := peer(ns, "source", "192.0.2.2:9", strconv.FormatInt(size, 10))
		n, secs, cpu := report(rr)
		src.Wait()
		cpu += procCPU(d.Process.Pid) - before
		return result{gbps: float64(n) * 8 / secs / 1e9, cpuPerGB: cpu / (float64(n) / 1e9)}
	})
	stop(d)
	h := serve("http", 80)
	out = median(runs, func() result {
		before := procCPU(h.Process.Pid)
		f, fr := peer(ns, "fetch", "192.0.2.2:80", strconv.FormatInt(size, 10))
		n, secs, cpu := report(fr)
		f.Wait()
		cpu += procCPU(h.Process.Pid) - before
		return result{gbps: float64(n) * 8 / secs / 1e9, cpuPerGB: cpu / (float64(n) / 1e9)}
	})
	stop(h)
	return in, out
}

// procCPU is a process's user+system CPU seconds from /proc/PID/stat
// (`ip netns exec` execs the command, so the pid is threeway's).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// runPeer is the kernel side: "sink ADDR" (listen, read to EOF, close,
// report), "source ADDR N" (send N bytes, half-close, wait for EOF,
// report), "fetch ADDR N" (GET /bytes/N over HTTP/1.0, read it, report).
// A report is "bytes seconds cpu-seconds".
func runPeer(mode string, args []string) int {
	buf := make([]byte, 256<<10)
	switch mode {
	case "sink":
		l, err := net.Listen("tcp", args[0])
		check(err)
		fmt.Println("listening")
		c, err := l.Accept()
		check(err)
		start := time.Now()
		n, err := io.CopyBuffer(io.Discard, c, buf)
		check(err)
		c.Close()
		fmt.Println(n, time.Since(start).Seconds(), selfCPU())
	case "source":
		size, _ := strconv.ParseInt(args[1], 10, 64)
		c, err := net.Dial("tcp", args[0])
		check(err)
		start := time.Now()
		for left := size; left > 0; {
			k, err := c.Write(buf[:min(left, int64(len(buf)))])
			check(err)
			left -= int64(k)
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c) // the receiver closes once it has read it all
		fmt.Println(size, time.Since(start).Seconds(), selfCPU())
	case "fetch":
		size, _ := strconv.ParseInt(args[1], 10, 64)
		c, err := net.Dial("tcp", args[0])
		check(err)
		start := time.Now()
		fmt.Fprintf(c, "GET /bytes/%d HTTP/1.0\r\nHost: x\r\n\r\n", size)
		n, err := io.CopyBuffer(io.Discard, c, buf)
		check(err)
		fmt.Println(n, time.Since(start).Seconds(), selfCPU())
	default:
		return 2
	}
	return 0
}
