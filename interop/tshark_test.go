package interop

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// tsharkFast keeps tshark quick on 64 MiB captures: TCP is checked segment
// by segment, without reassembling and dissecting the HTTP inside.
var tsharkFast = []string{"-o", "tcp.desegment_tcp_streams:FALSE", "--disable-protocol", "http"}

// checkCapture runs tshark over a capture with TCP checksum validation and
// fails the test on any malformed packet, expert error or bad checksum.
func checkCapture(t testing.TB, path string) {
	t.Helper()
	if st, err := os.Stat(path); err != nil || st.Size() <= 24 {
		t.Errorf("capture %s missing or empty", path)
		return
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Logf("tshark not installed: capture %s not checked", path)
		return
	}
	// The kernel updates checksums incrementally (RFC 1624), which can
	// leave 0xFFFF where a fresh computation gives 0x0000; tshark calls
	// that an error, so the kernel's own packets are excused from it.
	// threeway computes every checksum afresh and is held to it.
	filter := `(_ws.malformed || _ws.expert.severity >= error || tcp.checksum.status == "Bad") && ` +
		`!(tcp.checksum == 0xffff && (ip.src == ` + kernel4 + ` || ipv6.src == ` + kernel6 + `))`
	out, err := exec.Command("tshark", append(tsharkFast, "-r", path, "-o", "tcp.check_checksum:TRUE", "-Y", filter)...).Output()
	if err != nil {
		t.Errorf("tshark -r %s: %v", path, err)
		return
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark flags packets in %s:\n%s", path, s)
	}
}

// synOptions returns, per SYN or SYN-ACK in the capture, tshark's decoding:
// "ip.src,ipv6.src,ack,mss,wscale,sackperm,tsval" (empty where absent).
func synOptions(t *testing.T, path string) []string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command("tshark", append(tsharkFast, "-r", path, "-Y", "tcp.flags.syn == 1", "-T", "fields",
		"-E", "separator=,", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.flags.ack",
		"-e", "tcp.options.mss_val", "-e", "tcp.options.wscale.shift", "-e", "tcp.options.sack_perm",
		"-e", "tcp.options.timestamp.tsval")...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
