package interop

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The TUN offloads against the kernel: with a virtio-net header the kernel
// hands threeway 64 KiB TCP segments (its TSO output, partial checksums)
// and takes threeway's 64 KiB segments to cut itself. These tests move
// 64 MiB each way over IPv4 and IPv6 with loss on the path, capture on
// the kernel's side of the device, and check the fallback with the
// offloads off.

// dialWith runs `threeway dial` with extra flags.
func (n *netns) dialWith(target string, stdin []byte, extra ...string) ([]byte, string, error) {
	args := append([]string{"dial", "--tun", tunName, "--addr", threeway4 + "/24", "--addr", threeway6 + "/64"}, extra...)
	c := n.cmd(threewayBin, append(args, target)...)
	var out bytes.Buffer
	var errb syncBuffer
	c.Stdin = bytes.NewReader(stdin)
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	return out.Bytes(), errb.String(), err
}

// addLoss drops every nth TCP packet crossing the TUN device in each
// direction, in the namespace's nftables (the kernel here has no netem):
// deterministic, so every run has loss to repair. A dropped large segment
// is a whole burst of MSS-sized segments lost at once.
func (n *netns) addLoss(every int) {
	n.t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		n.t.Skip("nft not installed (scripts/test.sh installs nftables as root)")
	}
	rules := fmt.Sprintf(`table inet loss {
  chain in { type filter hook input priority 0; iifname %q meta l4proto tcp numgen inc mod %d == 0 counter drop; }
  chain out { type filter hook output priority 0; oifname %q meta l4proto tcp numgen inc mod %d == 0 counter drop; }
}
`, tunName, every, tunName, every)
	c := n.cmd("nft", "-f", "-")
	c.Stdin = strings.NewReader(rules)
	if out, err := c.CombinedOutput(); err != nil {
		n.t.Fatalf("nft: %v\n%s", err, out)
	}
}

// lossCounts returns how many packets the loss rules dropped coming from
// threeway (in) and going to it (out).
func (n *netns) lossCounts() (in, out int) {
	n.t.Helper()
	s := n.mustRun("nft", "list", "table", "inet", "loss")
	m := regexp.MustCompile(`chain (in|out) \{[^}]*counter packets (\d+)`).FindAllStringSubmatch(s, -1)
	for _, x := range m {
		k, _ := strconv.Atoi(x[2])
		if x[1] == "in" {
			in = k
		} else {
			out = k
		}
	}
	return in, out
}

// kernelCapture runs tcpdump on the kernel's side of the TUN device,
// headers only (offloaded segments are up to 64 KiB).
type kernelCapture struct {
	cmd  *exec.Cmd
	path string
	errb syncBuffer
}

func (n *netns) captureKernelSide(name string) *kernelCapture {
	n.t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		n.t.Skip("tcpdump not installed (scripts/test.sh installs it as root)")
	}
	k := &kernelCapture{path: filepath.Join(n.dir, name)}
	k.cmd = n.cmd("tcpdump", "-i", tunName, "-s", "200", "-U", "-n", "-w", k.path)
	k.cmd.Stderr = &k.errb
	if err := k.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		if k.cmd.ProcessState == nil {
			k.cmd.Process.Kill()
			k.cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(k.errb.String(), "listening on") {
		if time.Now().After(deadline) {
			n.t.Fatalf("tcpdump did not start: %s", k.errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return k
}

// stop ends the capture and returns its path.
func (k *kernelCapture) stop(t *testing.T) string {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last packets reach the file
	k.cmd.Process.Signal(syscall.SIGINT)
	k.cmd.Wait()
	return k.path
}

// checkKernelCapture runs tshark over a kernel-side capture: no malformed
// packet, no expert error. Checksums are not checked: with offloads the
// kernel's side of the device holds partial checksums, as any capture
// on a device with checksum offload does. It returns the largest TCP
// packet seen from each side.
func checkKernelCapture(t *testing.T, path string) (fromKernel, fromThreeway int) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command("tshark", append(tsharkFast, "-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= error")...).Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark flags packets in the kernel-side capture:\n%s", s)
	}
	out, err = exec.Command("tshark", append(tsharkFast, "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=,",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "frame.len")...).Output()
	if err != nil {
		t.Fatalf("tshark fields: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 3 {
			continue
		}
		size, _ := strconv.Atoi(f[2])
		if f[0] == kernel4 || f[1] == kernel6 {
			fromKernel = max(fromKernel, size)
		} else {
			fromThreeway = max(fromThreeway, size)
		}
	}
	return fromKernel, fromThreeway
}

// TestOffload64MiBEachWayWithLoss: threeway sends 64 MiB to the kernel and
// receives 64 MiB from it, over IPv4 and IPv6, with the offloads on and
// one TCP packet in 400 (large segments among them) dropped each way; both
// streams are checked by SHA-256, the capture on the kernel's side by
// tshark, and it must show segments larger than the MTU both ways.
func TestOffload64MiBEachWayWithLoss(t *testing.T) {
	for _, kernel := range []string{kernel4, "[" + kernel6 + "]"} {
		t.Run(kernel, func(t *testing.T) {
			n := newNetns(t)
			n.addLoss(400)
			capture := n.captureKernelSide("kernel.pcap")
			const size = 64 << 20
			data := pattern(size)

			sink := n.startPeer("sink", kernel+":9000", nil)
			start := time.Now()
			_, stderr, err := n.dialWith(kernel+":9000", data)
			if err != nil {
				t.Fatalf("threeway dial (send): %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, "offloads: csum tso4 tso6") {
				t.Fatalf("offloads not negotiated: %s", stderr)
			}
			out, err := sink.wait(60 * time.Second)
			if want := fmt.Sprintf("%d %s", size, sha(data)); err != nil || !strings.Contains(out, want) {
				t.Fatalf("kernel received %q (%v), want %q", out, err, want)
			}

			t.Logf("threeway to kernel: %v", time.Since(start))
			src := n.startPeer("source", fmt.Sprintf("%s:9001,%d", kernel, size), nil)
			start = time.Now()
			got, stderr, err := n.dialWith(kernel+":9001", nil)
			t.Logf("kernel to threeway: %v", time.Since(start))
			if err != nil {
				t.Fatalf("threeway dial (receive): %v\n%s", err, stderr)
			}
			src.wait(10 * time.Second)
			if len(got) != size || sha(got) != sha(data) {
				t.Fatalf("threeway received %d bytes, sha %s", len(got), sha(got))
			}

			in, outDrops := n.lossCounts()
			if in == 0 || outDrops == 0 {
				t.Fatalf("loss rules dropped %d packets from threeway and %d to it: no loss on the path", in, outDrops)
			}
			t.Logf("dropped %d packets from threeway, %d from the kernel", in, outDrops)
			fromKernel, fromThreeway := checkKernelCapture(t, capture.stop(t))
			if fromKernel <= 1500 || fromThreeway <= 1500 {
				t.Errorf("largest packets: %d bytes from the kernel, %d from threeway: offloads not in use", fromKernel, fromThreeway)
			}
		})
	}
}

// TestOffloadOffFallsBack: with --offload=false the device is plain (no
// virtio-net header), every packet fits the MTU, and 64 MiB still cross
// each way intact.
func TestOffloadOffFallsBack(t *testing.T) {
	n := newNetns(t)
	capture := n.captureKernelSide("kernel.pcap")
	const size = 64 << 20
	data := pattern(size)
	sink := n.startPeer("sink", kernel4+":9000", nil)
	_, stderr, err := n.dialWith(kernel4+":9000", data, "--offload=false")
	if err != nil {
		t.Fatalf("threeway dial (send): %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "offloads: none") {
		t.Fatalf("offloads not off: %s", stderr)
	}
	out, err := sink.wait(60 * time.Second)
	if want := fmt.Sprintf("%d %s", size, sha(data)); err != nil || !strings.Contains(out, want) {
		t.Fatalf("kernel received %q (%v), want %q", out, err, want)
	}
	src := n.startPeer("source", fmt.Sprintf("%s:9001,%d", kernel4, size), nil)
	got, stderr, err := n.dialWith(kernel4+":9001", nil, "--offload=false")
	if err != nil {
		t.Fatalf("threeway dial (receive): %v\n%s", err, stderr)
	}
	src.wait(10 * time.Second)
	if len(got) != size || sha(got) != sha(data) {
		t.Fatalf("threeway received %d bytes, sha %s", len(got), sha(got))
	}
	fromKernel, fromThreeway := checkKernelCapture(t, capture.stop(t))
	if fromKernel > 1500 || fromThreeway > 1500 {
		t.Errorf("largest packets %d and %d bytes on a plain device with MTU 1500", fromKernel, fromThreeway)
	}
}
