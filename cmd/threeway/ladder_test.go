package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threeway-tcp/threeway/capture"
)

// demoCapture runs the demo with --pcap and returns the capture's path.
func demoCapture(t *testing.T, cfg demoConfig) string {
	t.Helper()
	cfg.Pcap = filepath.Join(t.TempDir(), "demo.pcap")
	demoRun(t, cfg)
	return cfg.Pcap
}

func runLadder(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := ladderCommand(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// The demo's own capture, drawn by `threeway ladder`: an in-memory
// capture via link.PcapWriter, made by the test.
func TestLadderCommandOfDemoCapture(t *testing.T) {
	path := demoCapture(t, demoConfig{Seed: 1, Loss: 0.3})
	list, _, err := runLadder(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "1 TCP connection;") || !strings.Contains(list, "192.0.2.1:56461  192.0.2.2:7") {
		t.Errorf("listing:\n%s", list)
	}
	out, _, err := runLadder(t, path, "--conn", "0")
	if err != nil {
		t.Fatal(err)
	}
	// The header names the temporary file; the golden file does not.
	golden(t, "ladder-demo-loss.golden", []byte(out))
	byTuple, _, err := runLadder(t, "--conn", "192.0.2.2:7,192.0.2.1:56461", path)
	if err != nil || byTuple != out {
		t.Errorf("--conn by tuple (reversed) gave a different ladder (%v)", err)
	}
}

// pcapng and Linux cooked (SLL2) versions of a capture, written by the
// test's own encoders, draw the same ladder as the pcap.
func TestLadderCommandPcapngAndCooked(t *testing.T) {
	path := demoCapture(t, demoConfig{Seed: 1})
	want, _, err := runLadder(t, path, "--conn", "0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := capture.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, enc := range map[string]func([]capture.Packet) []byte{
		"pcapng-ns.pcapng": func(p []capture.Packet) []byte { return testPcapng(p, nil) },
		"sll2.pcapng":      func(p []capture.Packet) []byte { return testPcapng(p, sll2Frame) },
		"sll.pcap":         testSLLPcap,
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(f, enc(pkts), 0o644); err != nil {
				t.Fatal(err)
			}
			got, _, err := runLadder(t, f, "--conn", "0")
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s draws differently:\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}

// testPcapng writes packets as pcapng, big-endian, nanosecond
// timestamps, each frame passed through frame (nil: raw IP).
func testPcapng(pkts []capture.Packet, frame func([]byte) []byte) []byte {
	be := binary.BigEndian
	var out []byte
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		out = be.AppendUint32(out, typ)
		out = be.AppendUint32(out, uint32(len(body)+12))
		out = append(out, body...)
		out = be.AppendUint32(out, uint32(len(body)+12))
	}
	shb := be.AppendUint32(nil, 0x1a2b3c4d)
	shb = be.AppendUint16(shb, 1)
	shb = be.AppendUint16(shb, 0)
	block(0x0a0d0d0a, be.AppendUint64(shb, ^uint64(0)))
	lt := uint16(101)
	if frame != nil {
		lt = 276
	}
	idb := be.AppendUint16(nil, lt)
	idb = be.AppendUint16(idb, 0)
	idb = be.AppendUint32(idb, 0)
	idb = be.AppendUint16(idb, 9) // if_tsresol: nanoseconds
	idb = be.AppendUint16(idb, 1)
	idb = append(idb, 9, 0, 0, 0)
	block(1, be.AppendUint32(idb, 0))
	for _, p := range pkts {
		d := p.Data
		if frame != nil {
			d = frame(d)
		}
		ts := uint64(p.Time.UnixNano())
		epb := be.AppendUint32(nil, 0)
		epb = be.AppendUint32(epb, uint32(ts>>32))
		epb = be.AppendUint32(epb, uint32(ts))
		epb = be.AppendUint32(epb, uint32(len(d)))
		epb = be.AppendUint32(epb, uint32(len(d)))
		block(6, append(epb, d...))
	}
	return out
}

func etherType(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

func sll2Frame(ip []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, etherType(ip))
	b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	return append(b, ip...)
}

// testSLLPcap writes packets as a little-endian microsecond pcap of
// LINKTYPE_LINUX_SLL frames, as "tcpdump -i any" did before SLL2.
func testSLLPcap(pkts []capture.Packet) []byte {
	le := binary.LittleEndian
	out := le.AppendUint32(nil, 0xa1b2c3d4)
	out = le.AppendUint16(out, 2)
	out = le.AppendUint16(out, 4)
	out = append(out, make([]byte, 8)...)
	out = le.AppendUint32(out, 262144)
	out = le.AppendUint32(out, 113)
	for _, p := range pkts {
		f := append([]byte{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, byte(etherType(p.Data)>>8), byte(etherType(p.Data)))
		f = append(f, p.Data...)
		out = le.AppendUint32(out, uint32(p.Time.Unix()))
		out = le.AppendUint32(out, uint32(p.Time.Nanosecond()/1000))
		out = le.AppendUint32(out, uint32(len(f)))
		out = le.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

func TestLadderCommandErrors(t *testing.T) {
	var flagOut bytes.Buffer
	flagOutput = &flagOut
	defer func() { flagOutput = os.Stderr }()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pcap")
	os.WriteFile(junk, []byte("this is not a capture at all"), 0o644)
	if _, _, err := runLadder(t, junk); err == nil || !strings.Contains(err.Error(), "not a pcap or pcapng capture") {
		t.Errorf("junk: %v", err)
	}
	path := demoCapture(t, demoConfig{Seed: 1})
	b, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, b[:len(b)-7], 0o644)
	out, stderr, err := runLadder(t, cut, "--conn", "0")
	if err != nil || !strings.Contains(stderr, "capture ends in the middle of a record") || !strings.Contains(out, "S seq 0") {
		t.Errorf("cut capture: err %v, stderr %q", err, stderr)
	}
	for _, tc := range []struct{ conn, msg string }{
		{"3", "has 1 connection(s)"},
		{"192.0.2.9:1,192.0.2.2:7", "no such connection"},
		{"bogus", "want an index or two endpoints"},
		{"1.2.3.4:5,x", "--conn"},
	} {
		if _, _, err := runLadder(t, path, "--conn", tc.conn); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("--conn %s: %v, want %q", tc.conn, err, tc.msg)
		}
	}
	if _, _, err := runLadder(t); err != errUsage {
		t.Errorf("no file: %v", err)
	}
	if _, _, err := runLadder(t, path, path); err != errUsage {
		t.Errorf("two files: %v", err)
	}
	if _, _, err := runLadder(t, filepath.Join(dir, "missing.pcap")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestLadderCommandIPv6(t *testing.T) {
	path := demoCapture(t, demoConfig{Seed: 1, IPv6: true})
	out, _, err := runLadder(t, path, "--conn", "0")
	if err != nil {
		list, _, _ := runLadder(t, path)
		t.Fatalf("%v\n%s", err, list)
	}
	for _, s := range []string{"client [2001:db8::1]:", "server [2001:db8::2]:7", "mss 1440", "LAST-ACK → CLOSED"} {
		if !strings.Contains(out, s) {
			t.Errorf("IPv6 ladder lacks %q:\n%s", s, out)
		}
	}
}

func TestLadderFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		on   bool
		port uint16
		bad  bool
	}{
		{nil, false, 0, false},
		{[]string{"--ladder"}, true, 0, false},
		{[]string{"--ladder=all"}, true, 0, false},
		{[]string{"--ladder=8080"}, true, 8080, false},
		{[]string{"--ladder=0"}, false, 0, true},
		{[]string{"--ladder=http"}, false, 0, true},
	} {
		fs := newFlagSet("t", "t")
		fs.SetOutput(io.Discard)
		var f ladderFlag
		f.register(fs)
		err := fs.Parse(tc.args)
		if (err != nil) != tc.bad || !tc.bad && (f.on != tc.on || f.port != tc.port) {
			t.Errorf("%v: on %v port %d err %v", tc.args, f.on, f.port, err)
		}
		if !tc.bad && (f.tracer(io.Discard) != nil) != tc.on {
			t.Errorf("%v: tracer presence wrong", tc.args)
		}
	}
}
