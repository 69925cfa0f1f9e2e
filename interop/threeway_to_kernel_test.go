package interop

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func pipe(t *testing.T) (io.Reader, io.WriteCloser) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func TestThreewayDialSends64MiBToKernel(t *testing.T) {
	for _, kernel := range []string{kernel4, "[" + kernel6 + "]"} {
		t.Run(kernel, func(t *testing.T) {
			n := newNetns(t)
			p := n.startPeer("sink", kernel+":9000", nil)
			data := pattern(64 << 20)
			pcap := filepath.Join(n.dir, "dial.pcap")
			_, stderr, err := n.dial(kernel+":9000", data, pcap)
			if err != nil {
				t.Fatalf("threeway dial: %v\n%s", err, stderr)
			}
			out, err := p.wait(30 * time.Second)
			if err != nil {
				t.Fatalf("peer: %v %s", err, out)
			}
			if want := fmt.Sprintf("%d %s", len(data), sha(data)); !strings.Contains(out, want) {
				t.Fatalf("kernel received %q, want %q", out, want)
			}
			checkCapture(t, pcap)
		})
	}
}

func TestThreewayDialReceives64MiBFromKernel(t *testing.T) {
	n := newNetns(t)
	const size = 64 << 20
	p := n.startPeer("source", fmt.Sprintf("%s:9001,%d", kernel4, size), nil)
	pcap := filepath.Join(n.dir, "dial.pcap")
	got, stderr, err := n.dial(kernel4+":9001", nil, pcap)
	if err != nil {
		t.Fatalf("threeway dial: %v\n%s", err, stderr)
	}
	p.wait(10 * time.Second)
	if len(got) != size || sha(got) != sha(pattern(size)) {
		t.Fatalf("threeway received %d bytes, sha %s", len(got), sha(got))
	}
	checkCapture(t, pcap)
}

func TestThreewayDialToClosedKernelPortIsRefused(t *testing.T) {
	n := newNetns(t)
	for _, kernel := range []string{kernel4, "[" + kernel6 + "]"} {
		pcap := filepath.Join(n.dir, "refused.pcap")
		_, stderr, err := n.dial(kernel+":9", nil, pcap)
		if err == nil || !strings.Contains(stderr, "connection refused") {
			t.Errorf("dial %s: err %v, stderr %q", kernel, err, stderr)
		}
		checkCapture(t, pcap)
	}
}

func TestKernelAbortSeenAsResetByThreeway(t *testing.T) {
	n := newNetns(t)
	n.startPeer("reset", kernel4+":9002", nil)
	pcap := filepath.Join(n.dir, "reset.pcap")
	_, stderr, err := n.dial(kernel4+":9002", []byte("hello\n"), pcap)
	if err == nil || !strings.Contains(stderr, "connection reset by peer") {
		t.Errorf("dial: err %v, stderr %q", err, stderr)
	}
}
