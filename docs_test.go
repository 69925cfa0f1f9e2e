package threeway

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConformanceDocCitesRealTests keeps docs/CONFORMANCE.md honest: every
// test, fuzz target or benchmark it names as proof must exist.
func TestConformanceDocCitesRealTests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "CONFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	funcRe := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRe.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`(?:\\w+ )?((?:Test|Fuzz|Benchmark)[A-Z]\\w*)")
	n := 0
	for _, m := range cited.FindAllSubmatch(doc, -1) {
		n++
		if !defined[string(m[1])] {
			t.Errorf("docs/CONFORMANCE.md cites %s, which no test file defines", m[1])
		}
	}
	if n < 100 {
		t.Fatalf("only %d tests cited: the pattern no longer matches the document", n)
	}
}
