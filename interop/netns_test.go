package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Addresses inside every namespace (documentation ranges, RFC 5737 and
// RFC 3849): the kernel on .1 / ::1, threeway on .2 / ::2.
const (
	kernel4   = "192.0.2.1"
	threeway4 = "192.0.2.2"
	kernel6   = "2001:db8::1"
	threeway6 = "2001:db8::2"
	tunName   = "tw0"
)

var nsCounter atomic.Int32

// netns is a network namespace with a TUN device whose kernel side is
// configured; threeway attaches to the device from inside.
type netns struct {
	t    *testing.T
	name string
	dir  string
}

// newNetns creates the namespace and its TUN device; sysctls are set
// inside it before the device comes up. Everything is removed when the
// test ends.
func newNetns(t *testing.T, sysctls ...string) *netns {
	t.Helper()
	needEnv(t)
	n := &netns{t: t, name: fmt.Sprintf("tw%d-%d", os.Getpid(), nsCounter.Add(1)), dir: t.TempDir()}
	run(t, "ip", "netns", "add", n.name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.name).Run() })
	n.ip("link", "set", "lo", "up")
	for _, s := range sysctls {
		n.mustRun("sysctl", "-q", "-w", s)
	}
	n.ip("tuntap", "add", "dev", tunName, "mode", "tun")
	n.ip("addr", "add", kernel4+"/24", "dev", tunName)
	n.ip("-6", "addr", "add", kernel6+"/64", "dev", tunName, "nodad")
	n.ip("link", "set", tunName, "up")
	return n
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (n *netns) ip(args ...string) { run(n.t, "ip", append([]string{"-n", n.name}, args...)...) }

// cmd returns a command that runs inside the namespace.
func (n *netns) cmd(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

func (n *netns) mustRun(name string, args ...string) string {
	n.t.Helper()
	out, err := n.cmd(name, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("in %s: %s %s: %v\n%s", n.name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// server is a `threeway serve` process inside the namespace.
type server struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr syncBuffer
	pcap   string
	done   chan error
}

// serve starts `threeway serve` with app on port and waits until it
// listens.
func (n *netns) serve(app string, port int) *server {
	n.t.Helper()
	s := &server{pcap: filepath.Join(n.dir, fmt.Sprintf("serve-%s-%d.pcap", app, port)), done: make(chan error, 1)}
	s.cmd = n.cmd(threewayBin, "serve", "--tun", tunName, "--addr", threeway4+"/24", "--addr", threeway6+"/64",
		"--listen", fmt.Sprintf(":%d", port), "--app", app, "--pcap", s.pcap)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	n.t.Cleanup(func() { s.stop(n.t) })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "serving") {
		if time.Now().After(deadline) {
			n.t.Fatalf("threeway serve did not start: %s", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// stop sends SIGINT and waits for a clean exit; then checks the capture.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("threeway serve exited with %v\n%s", err, s.stderr.String())
		}
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("threeway serve did not stop on SIGINT")
	}
	checkCapture(t, s.pcap)
}

// dial runs `threeway dial` to target with stdin, returning stdout, stderr
// and the exit error.
func (n *netns) dial(target string, stdin []byte, pcap string) ([]byte, string, error) {
	c := n.cmd(threewayBin, "dial", "--tun", tunName, "--addr", threeway4+"/24", "--addr", threeway6+"/64", "--pcap", pcap, target)
	var out bytes.Buffer
	var errb syncBuffer
	c.Stdin = bytes.NewReader(stdin)
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	return out.Bytes(), errb.String(), err
}
