package interop

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSynFloodFromHping3 floods `threeway serve` with spoofed SYNs from
// hping3 inside the namespace while the kernel's curl fetches pages in a
// loop. It is a measurement: it prints SYNs absorbed per second, curl's
// success rate and the server's peak memory, and asserts only the success
// rate. The spoofed sources' SYN-ACKs go back into the namespace, which
// forwards nothing, so no packet leaves it.
func TestSynFloodFromHping3(t *testing.T) {
	needEnv(t)
	if _, err := exec.LookPath("hping3"); err != nil {
		t.Skip("hping3 not installed (scripts/test.sh installs it as root)")
	}
	n := newNetns(t)
	s := n.serve("http", 80)
	const floodFor = 4 * time.Second
	flood := n.cmd("timeout", "--signal=INT", floodFor.String(), "hping3", "--flood", "-S", "-p", "80", "--rand-source", "-q", threeway4)
	var floodOut syncBuffer
	flood.Stdout, flood.Stderr = &floodOut, &floodOut
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	tries, oks := 0, 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < floodFor {
				out, err := n.cmd("curl", "-sS", "--max-time", "10", "http://"+threeway4+"/").Output()
				mu.Lock()
				tries++
				if err == nil && string(out) == "threeway says hello\n" {
					oks++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	flood.Wait()
	peak := peakRSS(s.cmd.Process.Pid)
	s.stop(t)
	stats := parseStats(s.stdout.String())
	synsSeen := stats["SyncookiesSent"] + stats["PassiveOpens"] + stats["ListenDrops"]
	rate := float64(synsSeen) / floodFor.Seconds()
	t.Logf("hping3 flood %v: threeway answered %.0f SYNs/s (%d cookies, %d half-open, %d dropped; cookie ACKs %d ok %d bad); curl %d/%d ok (%.1f%%); serve peak RSS %d KiB; hping3: %s",
		floodFor, rate, stats["SyncookiesSent"], stats["PassiveOpens"], stats["ListenDrops"], stats["SyncookiesRecv"], stats["SyncookiesFailed"],
		oks, tries, 100*float64(oks)/float64(tries), peak, strings.TrimSpace(floodOut.String()))
	fmt.Fprintf(os.Stderr, "SYN flood measurement: %.0f SYNs/s absorbed, curl %d/%d ok, peak RSS %d KiB\n", rate, oks, tries, peak)
	if tries == 0 || oks*100 < tries*95 {
		t.Fatalf("curl succeeded %d of %d times under the flood", oks, tries)
	}
}

// peakRSS reads a process's peak resident set size (VmHWM) in KiB.
func peakRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return -1
}

// parseStats reads the "Name value" lines serve prints on exit.
func parseStats(out string) map[string]int {
	m := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			if v, err := strconv.Atoi(f[1]); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m
}
