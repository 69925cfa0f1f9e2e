package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// demoRun runs the demo in-process and returns its output split in lines.
func demoRun(t *testing.T, cfg demoConfig) (string, []string) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	err := runDemo(cfg, &out)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("runDemo(%+v): %v\n%s", cfg, err, out.String())
	}
	if elapsed > 2*time.Second {
		t.Errorf("demo took %v of real time", elapsed)
	}
	s := out.String()
	for i, l := range strings.Split(s, "\n") {
		if n := utf8.RuneCountInString(l); n > lineWidth {
			t.Errorf("line %d is %d columns: %q", i, n, l)
		}
	}
	if strings.Contains(s, "\x1b") {
		t.Error("colour in output to a buffer")
	}
	return s, strings.Split(s, "\n")
}

// sideStates returns the state changes drawn in each column, in order.
func sideStates(lines []string) (client, server []string) {
	for _, l := range lines {
		if c := leftCol(l); strings.Contains(c, " → ") {
			client = append(client, c)
		}
		if c := rightCol(l); strings.Contains(c, " → ") {
			server = append(server, c)
		}
	}
	return client, server
}

func TestDemoDefault(t *testing.T) {
	out, lines := demoRun(t, demoConfig{Seed: 1})
	t.Logf("\n%s", out)
	client, server := sideStates(lines)
	wantC := []string{
		"CLOSED → SYN-SENT", "SYN-SENT → ESTABLISHED", "ESTABLISHED → FIN-WAIT-1",
		"FIN-WAIT-1 → FIN-WAIT-2", "FIN-WAIT-2 → TIME-WAIT", "TIME-WAIT → CLOSED",
	}
	wantS := []string{
		"LISTEN → SYN-RECEIVED", "SYN-RECEIVED → ESTABLISHED", "ESTABLISHED → CLOSE-WAIT",
		"CLOSE-WAIT → LAST-ACK", "LAST-ACK → CLOSED",
	}
	if strings.Join(client, "; ") != strings.Join(wantC, "; ") {
		t.Errorf("client states %q, want %q", client, wantC)
	}
	if strings.Join(server, "; ") != strings.Join(wantS, "; ") {
		t.Errorf("server states %q, want %q", server, wantS)
	}
	for _, s := range []string{
		"client 192.0.2.1:", "server 192.0.2.2:7",
		"S seq 0 win 65535 len 0 ──", "─ S. seq 0 ack 1 win 65535 len 0 ─", "<mss 1460,sackOK,TS val 0 ecr 0,nop,wscale",
		`"hello, threeway"`, "⋯ 1990 ms ⋯", "MSS (send / advertised)", "1460 / 1460", "active opens",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	for _, s := range []string{"(lost)", "retransmission", "drop"} {
		if strings.Contains(out, s) {
			t.Errorf("lossless demo shows %q", s)
		}
	}
	// TIME-WAIT ends 2*MSL after it began (60 msec: three one-way trips).
	i := findLine(t, lines, 0, "TIME-WAIT → CLOSED")
	if timeCol(lines[i]) != "2060" {
		t.Errorf("TIME-WAIT ended at %q msec, want 2060", timeCol(lines[i]))
	}
}

func TestDemoLoss(t *testing.T) {
	out, lines := demoRun(t, demoConfig{Loss: 0.3, Seed: 1})
	t.Logf("\n%s", out)
	first := findLine(t, lines, 0, "S seq 0 win 65535 len 0")
	if !strings.Contains(lines[first], "X (lost)") {
		t.Errorf("first SYN not lost: %q", lines[first])
	}
	again := findLine(t, lines, first+1, "S seq 0 win 65535 len 0")
	if leftCol(lines[again]) != "retransmission" {
		t.Errorf("second SYN not marked as a retransmission: %q", lines[again])
	}
	client, server := sideStates(lines)
	if len(client) == 0 || client[len(client)-1] != "TIME-WAIT → CLOSED" {
		t.Errorf("client states %q", client)
	}
	if len(server) == 0 || !strings.HasSuffix(server[len(server)-1], "→ CLOSED") {
		t.Errorf("server states %q", server)
	}
	if !strings.Contains(out, "SYN retransmits") {
		t.Error("no summary")
	}
}

func TestDemoSimultaneous(t *testing.T) {
	out, lines := demoRun(t, demoConfig{Simultaneous: true, Seed: 1})
	t.Logf("\n%s", out)
	client, server := sideStates(lines)
	for name, st := range map[string][]string{"client": client, "server": server} {
		want := []string{"CLOSED → SYN-SENT", "SYN-SENT → SYN-RECEIVED", "SYN-RECEIVED → ESTABLISHED"}
		if len(st) < 3 || strings.Join(st[:3], "; ") != strings.Join(want, "; ") {
			t.Errorf("%s states %q, want to start %q", name, st, want)
		}
		if len(st) == 0 || st[len(st)-1] != "TIME-WAIT → CLOSED" {
			t.Errorf("%s states %q, want to end in TIME-WAIT → CLOSED", name, st)
		}
	}
	for _, s := range []string{"client 192.0.2.1:5000", "server 192.0.2.2:6000", `"hello, threeway"`, `"hello, client"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	// The two SYNs cross: one each way at time 0.
	c := findLine(t, lines, 0, "─ S seq 0 win 65535 len 0 ─")
	s := findLine(t, lines, c+1, "─ S seq 0 win 65535 len 0 ─")
	if !strings.HasSuffix(midCol(lines[c]), ">") || !strings.HasPrefix(midCol(lines[s]), "<") {
		t.Errorf("SYNs do not cross:\n%s\n%s", lines[c], lines[s])
	}
	if strings.Contains(out, "retransmission") {
		t.Error("simultaneous open's SYN-ACK drawn as a retransmission")
	}
}

func TestDemoPcap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.pcap")
	out, _ := demoRun(t, demoConfig{Seed: 1, Pcap: path})
	if !strings.Contains(out, path) {
		t.Errorf("output does not mention %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= 24 {
		t.Fatalf("pcap file has %d bytes", len(b))
	}
	if !bytes.Equal(b[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}) {
		t.Errorf("pcap magic = % x", b[:4])
	}
}

func TestDemoIPv6(t *testing.T) {
	out, lines := demoRun(t, demoConfig{Seed: 1, IPv6: true})
	for _, s := range []string{"client [2001:db8::1]:", "server [2001:db8::2]:7", "mss 1440", "1440 / 1440"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q\n%s", s, out)
		}
	}
	if _, server := sideStates(lines); len(server) == 0 || server[len(server)-1] != "LAST-ACK → CLOSED" {
		t.Errorf("server states %q", server)
	}
}

func TestDemoDeterministic(t *testing.T) {
	for _, cfg := range []demoConfig{{Seed: 1}, {Seed: 1, Loss: 0.3}, {Seed: 2, Simultaneous: true}} {
		a, _ := demoRun(t, cfg)
		b, _ := demoRun(t, cfg)
		if a != b {
			t.Errorf("two runs of %+v differ:\n%s\n----\n%s", cfg, a, b)
		}
	}
	a, _ := demoRun(t, demoConfig{Seed: 1, Loss: 0.3})
	b, _ := demoRun(t, demoConfig{Seed: 4, Loss: 0.3})
	if a == b {
		t.Error("different seeds gave the same output")
	}
}

func TestDemoCommandFlags(t *testing.T) {
	var out, flagOut bytes.Buffer
	flagOutput = &flagOut
	defer func() { flagOutput = os.Stderr }()
	if err := demoCommand([]string{"--loss", "0.95"}, &out); err == nil || !strings.Contains(err.Error(), "loss") {
		t.Errorf("--loss 0.95: %v", err)
	}
	if code := finish(demoCommand([]string{"--bogus"}, &out), &out); code != 2 {
		t.Errorf("bad flag exit %d, want 2", code)
	}
	if code := finish(demoCommand([]string{"extra"}, &out), &out); code != 2 {
		t.Errorf("extra argument exit %d, want 2", code)
	}
	if !strings.Contains(flagOut.String(), "-bogus") || !strings.Contains(flagOut.String(), `unexpected argument "extra"`) {
		t.Errorf("flag errors:\n%s", flagOut.String())
	}
	out.Reset()
	if err := demoCommand([]string{"--seed", "5", "--no-color"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Seed 5") {
		t.Errorf("output lacks the seed:\n%s", out.String())
	}
}

func TestDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch(nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "demo") {
		t.Errorf("no args: exit %d, usage %q", code, out.String())
	}
	out.Reset()
	if code := dispatch([]string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "commands:") {
		t.Errorf("help: exit %d, usage %q", code, out.String())
	}
	out.Reset()
	if code := dispatch([]string{"frobnicate"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), `unknown command "frobnicate"`) || out.Len() != 0 {
		t.Errorf("unknown: exit %d, stderr %q, stdout %q", code, errOut.String(), out.String())
	}

	commands["fail-test"] = &command{summary: "fails", run: func([]string) error { return os.ErrNotExist }}
	defer delete(commands, "fail-test")
	errOut.Reset()
	if code := dispatch([]string{"fail-test"}, &out, &errOut); code != 1 ||
		errOut.String() != "threeway: "+os.ErrNotExist.Error()+"\n" {
		t.Errorf("failing command: exit %d, stderr %q", code, errOut.String())
	}
	// Listing is sorted.
	out.Reset()
	commands["aaa-test"] = &command{summary: "first", run: func([]string) error { return nil }}
	defer delete(commands, "aaa-test")
	usage(&out)
	u := out.String()
	if a, d, f := strings.Index(u, "aaa-test"), strings.Index(u, "demo"), strings.Index(u, "fail-test"); !(a < d && d < f) {
		t.Errorf("commands not sorted:\n%s", u)
	}
}
