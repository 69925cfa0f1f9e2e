package interop

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkForwardThroughput fetches 256 MiB with curl through `threeway
// forward` (client namespace, TUN, threeway, kernel socket) and, in the
// same run, directly with the kernel (from the proxy namespace over the
// same veth), and reports both rates and their ratio.
//
//	go test ./interop -run '^$' -bench ForwardThroughput -benchtime 3x
func BenchmarkForwardThroughput(b *testing.B) {
	for _, mtu := range []int{1500, 9000} {
		b.Run(fmt.Sprintf("mtu=%d", mtu), func(b *testing.B) {
			fwdMTU, fwdNoCapture = mtu, true
			defer func() { fwdMTU, fwdNoCapture = 0, false }()
			benchThroughput(b)
		})
	}
}

func benchThroughput(b *testing.B) {
	n := newForwardNet(b)
	const size = 256 << 20
	url := fmt.Sprintf("http://%s:8080/bytes/%d", fwdServer4, size)
	fetch := func(ns string) float64 {
		out, err := exec.Command("ip", "netns", "exec", ns, "curl", "-sS", "-o", "/dev/null", "-w", "%{speed_download}", url).Output()
		if err != nil {
			b.Fatalf("curl in %s: %v %s", ns, err, out)
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		return v / 1e6
	}
	var proxied, direct float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		proxied += fetch(n.client)
		direct += fetch(n.proxy)
	}
	b.StopTimer()
	proxied /= float64(b.N)
	direct /= float64(b.N)
	b.ReportMetric(proxied, "forward-MB/s")
	b.ReportMetric(direct, "kernel-MB/s")
	b.ReportMetric(proxied/direct, "forward/kernel")
}

// BenchmarkForwardMemoryPerConn holds 1,000 idle connections through the
// proxy and reports the growth of its resident set per connection (both
// halves: threeway's connection and the kernel socket's Go side).
//
//	go test ./interop -run '^$' -bench ForwardMemoryPerConn -benchtime 1x
func BenchmarkForwardMemoryPerConn(b *testing.B) {
	const conns = 1000
	n := newForwardNet(b)
	for i := 0; i < b.N; i++ {
		before := rss(n.proxyCmd.Process.Pid)
		hold := n.peerCmd(n.client, "hold", fmt.Sprintf("%s:8080,%d", fwdServer4, conns))
		stdin, _ := hold.StdinPipe()
		var out syncBuffer
		hold.Stdout, hold.Stderr = &out, &out
		if err := hold.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "ready") {
			if time.Now().After(deadline) || strings.Contains(out.String(), "error") {
				b.Fatalf("hold: %s", out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		after := rss(n.proxyCmd.Process.Pid)
		io.WriteString(stdin, "")
		stdin.Close()
		hold.Wait()
		per := float64(after-before) * 1024 / conns
		b.ReportMetric(per, "forward-B/conn")
	}
}

// rss is a process's current resident set size in KiB.
func rss(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return -1
}
