package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConformCommand(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass.pkt")
	fail := filepath.Join(dir, "fail.pkt")
	os.WriteFile(pass, []byte("// RFC 9293 §3.10.7.1\n0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 1\n"), 0o644)
	os.WriteFile(fail, []byte("// RFC 9293 §3.10.7.1\n0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 2\n"), 0o644)
	var out bytes.Buffer
	conformOut = &out
	defer func() { conformOut = os.Stdout }()

	if err := runConform([]string{pass}); err != nil {
		t.Fatalf("passing script: %v\n%s", err, out.String())
	}
	if got := out.String(); got != "PASS "+pass+"\n1 passed, 0 failed\n" {
		t.Errorf("output %q", got)
	}
	out.Reset()
	err := runConform([]string{"--backend", "threeway", dir})
	if err == nil {
		t.Fatal("a failing script did not fail the command")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "FAIL "+fail+": line 3: expected `> R. 0:0(0) ack 2`, got `> R. 0:0(0) ack 1 win 0`") ||
		lines[1] != "PASS "+pass || lines[2] != "1 passed, 1 failed" {
		t.Errorf("output:\n%s", out.String())
	}
	if err := runConform([]string{"--backend", "bsd", pass}); err == nil {
		t.Error("unknown backend accepted")
	}
}
