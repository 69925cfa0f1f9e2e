package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "hello 192.0.2.1:") || !strings.Contains(got, "over wireguard on threeway") {
		t.Fatalf("output %q", got)
	}
}
