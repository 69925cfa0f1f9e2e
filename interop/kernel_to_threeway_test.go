package interop

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// curl runs the kernel's curl inside n and returns the body.
func (n *netns) curl(t *testing.T, url string) []byte {
	t.Helper()
	out, err := n.cmd("curl", "-sS", "-g", "--max-time", "60", url).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", url, err)
	}
	return out
}

func TestKernelCurlFetchesFromThreewayHTTP(t *testing.T) {
	for _, host := range []string{threeway4, "[" + threeway6 + "]"} {
		t.Run(host, func(t *testing.T) {
			n := newNetns(t)
			s := n.serve("http", 80)
			if got := string(n.curl(t, "http://"+host+"/")); got != "threeway says hello\n" {
				t.Fatalf("GET / = %q", got)
			}
			const size = 64 << 20
			body := n.curl(t, fmt.Sprintf("http://%s/bytes/%d", host, size))
			if len(body) != size || sha(body) != sha(pattern(size)) {
				t.Fatalf("64 MiB body: got %d bytes, sha %s", len(body), sha(body))
			}
			s.stop(t)
			checkNegotiationMatchesCapture(t, s)
		})
	}
}

// checkNegotiationMatchesCapture compares what threeway logged for each
// accepted connection with tshark's decoding of its SYN-ACKs.
func checkNegotiationMatchesCapture(t *testing.T, s *server) {
	t.Helper()
	re := regexp.MustCompile(`mss_sent=(\d+) .* wscale_sent=(\d+) peer_wscale=(\d+) sack=(\w+) ts=(\w+)`)
	logged := re.FindAllStringSubmatch(s.stderr.String(), -1)
	if len(logged) == 0 {
		t.Fatalf("no accept lines logged:\n%s", s.stderr.String())
	}
	var synAcks []string
	for _, line := range synOptions(t, s.pcap) {
		f := strings.Split(line, ",")
		if len(f) == 7 && f[2] == "1" {
			synAcks = append(synAcks, line)
		}
	}
	if len(synAcks) < len(logged) {
		t.Fatalf("%d accepts logged, %d SYN-ACKs captured", len(logged), len(synAcks))
	}
	for i, m := range logged {
		f := strings.Split(synAcks[i], ",")
		if f[3] != m[1] {
			t.Errorf("SYN-ACK %d: tshark MSS %s, threeway logged %s", i, f[3], m[1])
		}
		if f[4] != "" && f[4] != m[2] {
			t.Errorf("SYN-ACK %d: tshark wscale %q, threeway logged %s", i, f[4], m[2])
		}
		if (f[5] != "") != (m[4] == "true") {
			t.Errorf("SYN-ACK %d: tshark SACK-permitted %q, threeway logged sack=%s", i, f[5], m[4])
		}
		if (f[6] != "") != (m[5] == "true") {
			t.Errorf("SYN-ACK %d: tshark TSval %q, threeway logged ts=%s", i, f[6], m[5])
		}
	}
}

func TestKernelSeesNegotiatedOptions(t *testing.T) {
	n := newNetns(t)
	n.serve("echo", 7)
	stdin, w := pipe(t)
	p := n.startPeer("hold", threeway4+":7", stdin)
	p.waitFor(t, "ready", 10*time.Second)
	out := n.mustRun("ss", "-tin", "state", "established", "dst", threeway4)
	w.Close()
	p.wait(10 * time.Second)
	if !regexp.MustCompile(`wscale:\d+,\d+`).MatchString(out) {
		t.Errorf("ss -ti does not show wscale on the connection:\n%s", out)
	}
	// With timestamps the kernel's MSS drops by the 12 option bytes.
	if !strings.Contains(out, "mss:1448") {
		t.Errorf("kernel MSS is not 1460-12: timestamps not in use?\n%s", out)
	}
	ssShows := ssReportsOptions(t, n)
	for _, opt := range []string{"ts", "sack"} {
		if !ssShows {
			t.Logf("this ss/kernel pair does not report %q even for kernel-to-kernel connections; checked through the capture and MSS instead", opt)
			continue
		}
		if !regexp.MustCompile(`\b` + opt + `\b`).MatchString(out) {
			t.Errorf("ss -ti does not show %q on the connection:\n%s", opt, out)
		}
	}
}

// ssReportsOptions reports whether ss shows "ts" for a kernel-to-kernel
// loopback connection in n: some ss and kernel pairs never print it.
func ssReportsOptions(t *testing.T, n *netns) bool {
	stdin, w := pipe(t)
	l := n.startPeer("sink", "127.0.0.1:9999", nil)
	p := n.startPeer("hold", "127.0.0.1:9999", stdin)
	p.waitFor(t, "ready", 10*time.Second)
	out := n.mustRun("ss", "-tin", "state", "established", "dst", "127.0.0.1")
	w.Close()
	p.wait(10 * time.Second)
	l.wait(10 * time.Second)
	return regexp.MustCompile(`\bts\b`).MatchString(out)
}

func TestKernelSysctlsNegotiateOptionsAway(t *testing.T) {
	cases := []struct {
		sysctl string
		absent string // what threeway must log as off
		ss     string // what ss must not show
	}{
		{"net.ipv4.tcp_timestamps=0", "ts=false", "ts"},
		{"net.ipv4.tcp_sack=0", "sack=false", "sack"},
		{"net.ipv4.tcp_window_scaling=0", "wscale=false", "wscale:"},
	}
	for _, tc := range cases {
		t.Run(tc.sysctl, func(t *testing.T) {
			n := newNetns(t, tc.sysctl)
			s := n.serve("http", 80)
			body := n.curl(t, "http://"+threeway4+"/bytes/1000000")
			if sha(body) != sha(pattern(1000000)) {
				t.Fatalf("body mismatch (%d bytes)", len(body))
			}
			stdin, w := pipe(t)
			p := n.startPeer("hold", threeway4+":80", stdin)
			p.waitFor(t, "ready", 10*time.Second)
			out := n.mustRun("ss", "-tin", "state", "established", "dst", threeway4)
			w.Close()
			p.wait(10 * time.Second)
			if regexp.MustCompile(`\b` + tc.ss + `\b`).MatchString(out) {
				t.Errorf("ss shows %q despite %s:\n%s", tc.ss, tc.sysctl, out)
			}
			s.stop(t)
			if !strings.Contains(s.stderr.String(), tc.absent) || strings.Contains(s.stderr.String(), strings.Replace(tc.absent, "false", "true", 1)) {
				t.Errorf("threeway did not negotiate %s away:\n%s", tc.absent, s.stderr.String())
			}
			checkNegotiationMatchesCapture(t, s)
		})
	}
}

func TestKernelConnectToClosedThreewayPortIsRefused(t *testing.T) {
	n := newNetns(t)
	n.serve("echo", 7)
	for _, addr := range []string{threeway4 + ":8", "[" + threeway6 + "]:8"} {
		out, _ := n.startPeer("dial", addr, nil).wait(10 * time.Second)
		if !strings.Contains(out, "connection refused") {
			t.Errorf("kernel dial %s: %s", addr, out)
		}
	}
}

func TestKernelPingsThreeway(t *testing.T) {
	n := newNetns(t)
	n.serve("echo", 7)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("ping not installed (scripts/test.sh installs iputils-ping as root)")
	}
	for _, args := range [][]string{{"-c", "3", "-i", "0.2", "-W", "2", threeway4}, {"-6", "-c", "3", "-i", "0.2", "-W", "2", threeway6}} {
		out, err := n.cmd("ping", args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), " 0% packet loss") {
			t.Errorf("ping %v: %v\n%s", args, err, out)
		}
	}
}

func TestKernelManyShortConnections(t *testing.T) {
	n := newNetns(t)
	n.serve("echo", 7)
	out, err := n.startPeer("many", threeway4+":7,200", nil).wait(120 * time.Second)
	if err != nil || !strings.Contains(out, "ok 400") {
		t.Fatalf("200 sequential + 200 parallel: %v\n%s", err, out)
	}
}

func TestThreewayAbortSeenAsResetByKernel(t *testing.T) {
	n := newNetns(t)
	s := n.serve("echo", 7)
	p := n.startPeer("readreset", threeway4+":7", nil)
	p.waitFor(t, "ready", 10*time.Second)
	time.Sleep(50 * time.Millisecond) // let the echo come back first
	// Stopping the stack aborts its connections with RSTs.
	s.stop(t)
	out, _ := p.wait(10 * time.Second)
	if !strings.Contains(out, "connection reset by peer") {
		t.Errorf("kernel saw %q, want a reset", out)
	}
}
