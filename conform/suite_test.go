package conform

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// suiteDir holds the conformance scripts, one directory per state or topic.
const suiteDir = "../testdata/conformance"

func suiteScripts(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(suiteDir, "*", "*.pkt"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	if len(paths) < 120 {
		t.Fatalf("only %d scripts in %s; the suite has at least 120", len(paths), suiteDir)
	}
	return paths
}

func scriptName(p string) string {
	rel, _ := filepath.Rel(suiteDir, p)
	return strings.TrimSuffix(filepath.ToSlash(rel), ".pkt")
}

// TestSuiteThreeway runs every script on the threeway backend: in
// process, on a simulated clock, so the whole suite takes well under a
// second of real time and every run is the same.
func TestSuiteThreeway(t *testing.T) {
	for _, p := range suiteScripts(t) {
		t.Run(scriptName(p), func(t *testing.T) {
			t.Parallel()
			res := RunFileWith(p, "threeway", RunOptions{StrictEnd: true})
			if res.Status != Pass {
				t.Errorf("%s", res)
			}
		})
	}
}

// TestSuiteScriptsDocumented checks that every script opens with the rule
// it checks, and that every linux-differs marker says why.
func TestSuiteScriptsDocumented(t *testing.T) {
	for _, p := range suiteScripts(t) {
		s, err := ParseFile(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		first := strings.SplitN(string(must(os.ReadFile(p))), "\n", 2)[0]
		if !strings.HasPrefix(first, "// RFC") {
			t.Errorf("%s: first line %q does not name the RFC rule it checks", p, first)
		}
		if strings.Contains(string(must(os.ReadFile(p))), "linux-differs:") && len(s.LinuxDiffers) < 40 {
			t.Errorf("%s: linux-differs marker too terse: %q", p, s.LinuxDiffers)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSuiteLinux runs every script against the Linux kernel, each in a
// network namespace of its own with a TUN device, several at once. It
// needs root, /dev/net/tun and iproute2; elsewhere it skips. A script
// passes, or fails as its linux-differs marker says. A script that fails
// unexpectedly is run once more before it counts, since real-time runs on
// a loaded machine can miss a timing tolerance.
func TestSuiteLinux(t *testing.T) {
	if err := LinuxAvailable(); err != nil {
		t.Skipf("skipping the Linux backend: %v", err)
	}
	if testing.Short() {
		t.Skip("skipping the Linux backend in -short mode (it runs in real time)")
	}
	paths := suiteScripts(t)
	start := time.Now()
	par := max(8, 4*runtime.NumCPU())
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	var sum Summary
	var wg sync.WaitGroup
	results := make([]Result, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := RunFileWith(p, "linux", RunOptions{StrictEnd: true})
			if res.Status == Fail {
				res = RunFileWith(p, "linux", RunOptions{StrictEnd: true})
			}
			results[i] = res
			mu.Lock()
			sum.Add(res)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Status == Fail {
			t.Errorf("%s: %s", scriptName(paths[i]), res.Msg)
		}
	}
	t.Logf("linux: %s (%d marked linux-differs) in %v", sum.Closing(), sum.Marked, time.Since(start).Round(time.Second))
}
