package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests that capture real kernels with tcpdump inside network namespaces
// they create, and draw the captures. They need root, /dev/net/tun and
// ip, ss, tcpdump, curl and nc (scripts/test.sh installs them); without
// them they skip.

var nsSeq atomic.Int32

func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	for _, tool := range []string{"ip", "ss", "tcpdump", "curl", "nc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/test.sh installs it as root)", tool)
		}
	}
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNS creates a network namespace with its loopback up, removed when
// the test ends.
func newNS(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("twl%d-%d", os.Getpid(), nsSeq.Add(1))
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	mustRun(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

func inNS(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// lockedBuf is a bytes.Buffer a child process and the test share.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProc starts cmd and stops it (SIGINT, then kill) when the test
// ends or when the returned function is called.
func startProc(t *testing.T, cmd *exec.Cmd, ready string) (stop func() string) {
	t.Helper()
	var out lockedBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() string {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
		return out.String()
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(15 * time.Second)
	for ready != "" && !strings.Contains(out.String(), ready) {
		select {
		case <-done:
			t.Fatalf("%v exited early:\n%s", cmd.Args, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v not ready:\n%s", cmd.Args, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop
}

// tcpdump captures TCP on dev in ns to path until stopped.
func tcpdump(t *testing.T, ns, dev, path string) func() string {
	return startProc(t, inNS(ns, "tcpdump", "-n", "-U", "--immediate-mode", "-s", "0", "-i", dev, "-w", path, "tcp"), "listening on")
}

// waitFile waits until a capture program has written its file header.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			time.Sleep(200 * time.Millisecond) // the header comes before capturing starts
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not created", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitListening waits until something in ns listens on TCP port.
func waitListening(t *testing.T, ns string, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := inNS(ns, "ss", "-Hltn", fmt.Sprintf("sport = :%d", port)).Output()
		if strings.TrimSpace(string(out)) != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d in %s", port, ns)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func linkTypeOf(t *testing.T, path string) uint32 {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 24 {
		t.Fatalf("%s: %v (%d bytes)", path, err, len(b))
	}
	return binary.LittleEndian.Uint32(b[20:]) & 0xffff
}

// checkKernelLadder draws the one connection in path and checks what any
// kernel-to-kernel HTTP exchange must show.
func checkLadder(t *testing.T, path, client, server string, wantStates [2][]string) string {
	t.Helper()
	list, stderr, err := runLadder(t, path)
	if dump, derr := exec.Command("tcpdump", "-nr", path).CombinedOutput(); testing.Verbose() || derr != nil {
		t.Logf("tcpdump -r %s:\n%s", path, dump)
	}
	if stderr != "" {
		t.Logf("%s", stderr)
	}
	if err != nil {
		t.Fatalf("ladder %s: %v\n%s", path, err, stderr)
	}
	if !strings.Contains(list, "1 TCP connection;") || !strings.Contains(list, client) || !strings.Contains(list, server) {
		t.Fatalf("listing of %s:\n%s", path, list)
	}
	out, _, err := runLadder(t, path, "--conn", "0")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"S seq 0 win", "S. seq 0 ack 1", "mss 1460", "sackOK", "TS val", `"GET / HTTP/1.1\r\n`, `"HTTP/1.`} {
		if !strings.Contains(out, s) {
			t.Errorf("ladder of %s lacks %q:\n%s", path, s, out)
		}
	}
	g := geomOf(out)
	var states [2][]string
	for _, l := range strings.Split(out, "\n") {
		for s, c := range []string{g.left(l), g.right(l)} {
			if strings.Contains(c, " → ") {
				states[s] = append(states[s], c)
			}
		}
	}
	for s := range 2 {
		if strings.Join(states[s], "; ") != strings.Join(wantStates[s], "; ") {
			t.Errorf("%s: side %d states\n  %q\nwant\n  %q\n%s", path, s, states[s], wantStates[s], out)
		}
	}
	return out
}

// captureCols finds the columns of a capture ladder.
type captureCols struct{ left, right func(string) string }

func geomOf(string) captureCols {
	g := struct{ tw, cw, mid int }{9, 26, 114 - 9 - 1 - 52 - 4}
	ll := g.tw + 1 + g.cw + 1
	rl := ll + 1 + g.mid
	return captureCols{
		left: func(l string) string {
			r := []rune(l)
			if len(r) < ll {
				return ""
			}
			return strings.TrimSpace(string(r[g.tw+1 : ll]))
		},
		right: func(l string) string {
			r := []rune(l)
			if len(r) <= rl+1 {
				return ""
			}
			return strings.TrimSpace(string(r[rl+1:]))
		},
	}
}

var httpResponse = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"

// A kernel-to-kernel connection, curl to nc, captured by tcpdump at the
// server on its veth (Ethernet) and at the client on "any" (Linux cooked):
// threeway took no part in it.
func TestLadderOfKernelToKernelCapture(t *testing.T) {
	needNetns(t)
	cns, sns := newNS(t), newNS(t)
	mustRun(t, "ip", "-n", cns, "link", "add", "twc", "type", "veth", "peer", "name", "tws", "netns", sns)
	mustRun(t, "ip", "-n", cns, "addr", "add", "198.51.100.1/24", "dev", "twc")
	mustRun(t, "ip", "-n", sns, "addr", "add", "198.51.100.2/24", "dev", "tws")
	mustRun(t, "ip", "-n", cns, "link", "set", "twc", "up")
	mustRun(t, "ip", "-n", sns, "link", "set", "tws", "up")
	dir := t.TempDir()
	atServer, atClient := filepath.Join(dir, "server-veth.pcap"), filepath.Join(dir, "client-any.pcap")
	stopS := tcpdump(t, sns, "tws", atServer)
	stopC := tcpdump(t, cns, "any", atClient)
	// Wireshark's capture engine writes pcapng, where it is installed.
	atServerNG := filepath.Join(dir, "server-veth.pcapng")
	stopNG := func() string { return "" }
	if _, err := exec.LookPath("dumpcap"); err == nil {
		stopNG = startProc(t, inNS(sns, "dumpcap", "-q", "-i", "tws", "-f", "tcp", "-w", atServerNG), "")
		waitFile(t, atServerNG)
	}
	// nc sends its stdin as soon as it accepts; hold the response back
	// a moment so that it follows the request, as a server's would.
	nc := inNS(sns, "nc", "-N", "-l", "198.51.100.2", "8080")
	respR, respW := io.Pipe()
	nc.Stdin = respR
	stopNC := startProc(t, nc, "")
	waitListening(t, sns, 8080)
	go func() {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(respW, httpResponse)
		respW.Close()
	}()
	body, err := inNS(cns, "curl", "-sS", "--max-time", "20", "http://198.51.100.2:8080/").Output()
	if err != nil || string(body) != "hello\n" {
		t.Fatalf("curl: %v %q", err, body)
	}
	time.Sleep(300 * time.Millisecond) // the last ACK
	stopNC()
	t.Logf("tcpdump at the server: %s", stopS())
	t.Logf("tcpdump at the client: %s", stopC())
	t.Logf("dumpcap at the server: %s", stopNG())
	if lt := linkTypeOf(t, atServer); lt != 1 {
		t.Errorf("veth capture has link type %d, want 1 (Ethernet)", lt)
	}
	if lt := linkTypeOf(t, atClient); lt != 276 && lt != 113 {
		t.Errorf("any-device capture has link type %d, want a Linux cooked one", lt)
	}
	// Whoever closes first, the handshake is the same; curl closes
	// after reading the whole (Connection: close) response.
	paths := []string{atServer, atClient}
	if _, err := os.Stat(atServerNG); err == nil {
		if b, _ := os.ReadFile(atServerNG); len(b) < 4 || binary.LittleEndian.Uint32(b) != 0x0a0d0d0a {
			t.Errorf("dumpcap did not write pcapng")
		}
		paths = append(paths, atServerNG)
	}
	for _, path := range paths {
		out := checkLadder(t, path, "198.51.100.1:", "198.51.100.2:8080", kernelStates(t, path))
		if testing.Verbose() {
			t.Logf("%s\n%s", path, out)
		}
	}
}

// kernelStates returns the state changes a curl-to-nc exchange shows,
// which depend on which end sent the first FIN.
func kernelStates(t *testing.T, path string) [2][]string {
	out, _, _ := runLadder(t, path, "--conn", "0")
	open := [2][]string{
		{"CLOSED → SYN-SENT", "SYN-SENT → ESTABLISHED"},
		{"LISTEN → SYN-RECEIVED", "SYN-RECEIVED → ESTABLISHED"},
	}
	first, second := 0, 1 // client closes first
	if strings.Contains(out, "ESTABLISHED → FIN-WAIT-1") && geomOf(out).right(lineWith(out, "ESTABLISHED → FIN-WAIT-1")) != "" {
		first, second = 1, 0
	}
	open[first] = append(open[first], "ESTABLISHED → FIN-WAIT-1", "FIN-WAIT-1 → FIN-WAIT-2", "FIN-WAIT-2 → TIME-WAIT")
	open[second] = append(open[second], "ESTABLISHED → CLOSE-WAIT", "CLOSE-WAIT → LAST-ACK", "LAST-ACK → CLOSED")
	return open
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// threewayBinary builds the command once.
func threewayBinary(t *testing.T) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "threeway-ladder")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "threeway")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	t.Cleanup(func() {})
	return binPath
}

// The kernel's curl fetching from `threeway serve --ladder` over a TUN
// device: tcpdump's capture of the device (raw IP) draws the same
// handshake, and serve's stderr shows the live ladder.
func TestLadderOfKernelToThreeway(t *testing.T) {
	needNetns(t)
	bin := threewayBinary(t)
	ns := newNS(t)
	mustRun(t, "ip", "-n", ns, "tuntap", "add", "dev", "tw0", "mode", "tun")
	mustRun(t, "ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "tw0")
	mustRun(t, "ip", "-n", ns, "link", "set", "tw0", "up")
	dir := t.TempDir()
	path := filepath.Join(dir, "tun.pcap")
	stopServe := startProc(t, inNS(ns, bin, "serve", "--tun", "tw0", "--addr", "192.0.2.2/24", "--listen", ":80",
		"--app", "http", "--ladder=80"), "serving")
	stopDump := tcpdump(t, ns, "tw0", path)
	body, err := inNS(ns, "curl", "-sS", "--max-time", "20", "http://192.0.2.2/").Output()
	if err != nil || string(body) != "threeway says hello\n" {
		t.Fatalf("curl: %v %q", err, body)
	}
	time.Sleep(300 * time.Millisecond)
	stopDump()
	live := stopServe()
	if lt := linkTypeOf(t, path); lt != 101 && lt != 12 {
		t.Errorf("TUN capture has link type %d, want raw IP", lt)
	}
	out := checkLadder(t, path, "192.0.2.1:", "192.0.2.2:80", kernelStates(t, path))
	if testing.Verbose() {
		t.Logf("capture:\n%s\nlive:\n%s", out, live)
	}
	for _, s := range []string{"threeway (this stack)", "⇄ 192.0.2.1:", "LISTEN → SYN-RECEIVED", "SYN-RECEIVED → ESTABLISHED",
		"CLOSED → SYN-SENT", `"GET / HTTP/1.1\r\n`, `"HTTP/1.1 200 OK\r\n`} {
		if !strings.Contains(live, s) {
			t.Errorf("serve --ladder output lacks %q:\n%s", s, live)
		}
	}
}

// `threeway dial --ladder` to the kernel's nc over TUN: the live ladder
// shows threeway's active open and the kernel's inferred passive one.
func TestDialLadderToKernel(t *testing.T) {
	needNetns(t)
	bin := threewayBinary(t)
	ns := newNS(t)
	mustRun(t, "ip", "-n", ns, "tuntap", "add", "dev", "tw0", "mode", "tun")
	mustRun(t, "ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "tw0")
	mustRun(t, "ip", "-n", ns, "link", "set", "tw0", "up")
	// nc's stdin stays open a moment: with -N, its end would close at
	// once, and dial stops when the peer is done.
	nc := inNS(ns, "nc", "-N", "-l", "192.0.2.1", "9000")
	ncIn, ncInW := io.Pipe()
	nc.Stdin = ncIn
	stopNC := startProc(t, nc, "")
	time.AfterFunc(time.Second, func() { ncInW.Close() })
	waitListening(t, ns, 9000)
	dial := inNS(ns, bin, "dial", "--tun", "tw0", "--addr", "192.0.2.2/24", "--ladder", "192.0.2.1:9000")
	dial.Stdin = strings.NewReader("hello, kernel\n")
	var stdout, stderr bytes.Buffer
	dial.Stdout, dial.Stderr = &stdout, &stderr
	if err := dial.Run(); err != nil {
		t.Fatalf("dial: %v\n%s", err, stderr.String())
	}
	got := stopNC()
	if got != "hello, kernel\n" {
		t.Errorf("nc received %q", got)
	}
	live := stderr.String()
	if testing.Verbose() {
		t.Logf("\n%s", live)
	}
	for _, s := range []string{"⇄ 192.0.2.1:9000", "CLOSED → SYN-SENT", "SYN-SENT → ESTABLISHED", "LISTEN (port 9000)",
		"LISTEN → SYN-RECEIVED", `"hello, kernel\n"`, "ESTABLISHED → FIN-WAIT-1"} {
		if !strings.Contains(live, s) {
			t.Errorf("dial --ladder output lacks %q:\n%s", s, live)
		}
	}
}
