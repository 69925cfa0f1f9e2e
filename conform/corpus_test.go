package conform

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The packetdrill corpus: google/packetdrill's own scripts, GPL test data
// kept outside the project (read where they lie, never copied in). CI
// has them at ../shared/packetdrill beside the clone; THREEWAY_PACKETDRILL
// names another place. corpusExpectFile says, for every script, whether
// it passes on each backend, and why not where it does not; TestCorpus
// fails when a script's status changes against it.

const corpusExpectFile = "testdata/corpus-expect.txt"

// flaky is the status of a script whose outcome on the Linux backend
// depends on what the kernel measures in real time (its TSO sizing
// follows the RTT and pacing rate): either outcome is accepted, and the
// reason says why.
const flaky = "FLAKY"

var updateCorpus = flag.Bool("corpus.update", false, "rewrite "+corpusExpectFile+" with the statuses of this run (reasons kept; new failures get a TODO reason to write)")

// corpusDefines are the -D definitions packetdrill's own runner gives
// IPv4 runs of the corpus (the kernel selftests' runner, too): the Fast
// Open cookies the corpus's key and addresses make, and the error
// queue's cmsg names.
var corpusDefines = map[string]string{
	"TFO_COOKIE":        "3021b9d889017eeb",
	"TFO_COOKIE_ZERO":   "b7c12350a90dc8f5",
	"CMSG_LEVEL_IP":     "SOL_IP",
	"CMSG_TYPE_RECVERR": "IP_RECVERR",
}

// corpusOptions run the corpus as packetdrill does: its defines, and TSO
// and GRO on the stack's link.
var corpusOptions = RunOptions{Defines: corpusDefines, Offloads: true}

func corpusDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("THREEWAY_PACKETDRILL"); d != "" {
		return d
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("packetdrill corpus: not in a git checkout (%v); set THREEWAY_PACKETDRILL", err)
	}
	d := filepath.Join(strings.TrimSpace(string(root)), "..", "shared", "packetdrill")
	if _, err := os.Stat(filepath.Join(d, "tcp")); err != nil {
		t.Skipf("packetdrill corpus not at %s; set THREEWAY_PACKETDRILL", d)
	}
	return d
}

// corpusExpect is one line of corpusExpectFile.
type corpusExpect struct {
	path   string
	status map[string]Status // by backend
	reason string
}

func readCorpusExpect(t *testing.T) map[string]*corpusExpect {
	t.Helper()
	f, err := os.Open(corpusExpectFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*corpusExpect{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseCorpusExpect(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", corpusExpectFile, n, err)
		}
		if out[e.path] != nil {
			t.Fatalf("%s:%d: %s listed twice", corpusExpectFile, n, e.path)
		}
		out[e.path] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parseCorpusExpect reads "PATH threeway=S linux=S [| REASON]".
func parseCorpusExpect(line string) (*corpusExpect, error) {
	head, reason, _ := strings.Cut(line, "|")
	f := strings.Fields(head)
	if len(f) != 3 {
		return nil, fmt.Errorf("want PATH threeway=STATUS linux=STATUS [| REASON]: %q", line)
	}
	e := &corpusExpect{path: f[0], status: map[string]Status{}, reason: strings.TrimSpace(reason)}
	for _, kv := range f[1:] {
		b, s, ok := strings.Cut(kv, "=")
		if !ok || (b != "threeway" && b != "linux") || (s != string(Pass) && s != string(Fail) && s != flaky) {
			return nil, fmt.Errorf("bad backend status %q", kv)
		}
		if s == flaky && b != "linux" {
			return nil, fmt.Errorf("%s: only the Linux backend (real time) can be FLAKY", kv)
		}
		e.status[b] = Status(s)
	}
	if len(e.status) != 2 {
		return nil, fmt.Errorf("%s: both backends need a status", e.path)
	}
	for _, b := range Backends {
		if e.status[b] != Pass && !strings.Contains(e.reason, b+": ") {
			return nil, fmt.Errorf("%s: an expected failure on %s needs its reason (\"%s: ...\")", e.path, b, b)
		}
	}
	return e, nil
}

func corpusScripts(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pkt") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestCorpusExpectFileWellFormed(t *testing.T) {
	exp := readCorpusExpect(t)
	if len(exp) < 100 {
		t.Fatalf("%s lists %d scripts", corpusExpectFile, len(exp))
	}
	for _, e := range exp {
		if strings.Contains(e.reason, "TODO") {
			t.Errorf("%s: reason not written: %q", e.path, e.reason)
		}
	}
}

// TestCorpus runs every corpus script on both backends and compares each
// status with corpusExpectFile. The Linux backend runs in real time, in
// namespaces, eight at once; a script that fails there unexpectedly runs
// once more, as a loaded machine can miss a timing tolerance; one that
// still fails only on timing is logged, not failed.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	exp := readCorpusExpect(t)
	scripts := corpusScripts(t, dir)
	for _, s := range scripts {
		if exp[s] == nil && !*updateCorpus {
			t.Errorf("%s is not in %s", s, corpusExpectFile)
		}
	}
	results := map[string]map[string]Result{}
	for _, b := range Backends {
		if b == "linux" {
			if err := LinuxAvailable(); err != nil {
				t.Logf("linux backend skipped: %v", err)
				continue
			}
			if testing.Short() {
				t.Logf("linux backend skipped in -short mode (it runs in real time)")
				continue
			}
		}
		start := time.Now()
		res := runCorpus(dir, scripts, b, exp)
		results[b] = res
		t.Logf("%s: %s in %v", b, corpusCounts(scripts, res), time.Since(start).Round(time.Second))
		for _, s := range scripts {
			e, r := exp[s], res[s]
			if e == nil || *updateCorpus {
				continue
			}
			if e.status[b] == flaky {
				continue
			}
			if r.Status != e.status[b] {
				if b == "linux" && r.Status == Fail && strings.Contains(r.Msg, "timing: ") {
					// Real time on a loaded machine: a missed tolerance
					// is logged, not failed; any other failure is.
					t.Logf("%s on linux: missed a timing tolerance twice (a loaded machine?): %s", s, r.Msg)
					continue
				}
				t.Errorf("%s on %s: %s, expected %s (%s): %s", s, b, r.Status, e.status[b], corpusExpectFile, r.Msg)
			}
		}
	}
	if *updateCorpus {
		writeCorpusExpect(t, scripts, exp, results)
	}
}

func runCorpus(dir string, scripts []string, backend string, exp map[string]*corpusExpect) map[string]Result {
	par := runtime.NumCPU()
	if backend == "linux" {
		par = 8
	}
	out := make(map[string]Result, len(scripts))
	var mu sync.Mutex
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, s := range scripts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := RunFileWith(filepath.Join(dir, s), backend, corpusOptions)
			tries := 1
			if *updateCorpus {
				tries = 3
			}
			for i := 0; i < tries && backend == "linux" && r.Status == Fail && (*updateCorpus || exp[s] == nil || exp[s].status[backend] == Pass); i++ {
				r = RunFileWith(filepath.Join(dir, s), backend, corpusOptions)
			}
			if r.Status == Marked {
				r.Status = Pass
			}
			mu.Lock()
			out[s] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// corpusCounts is "N/M passed" overall and by directory.
func corpusCounts(scripts []string, res map[string]Result) string {
	type count struct{ pass, all int }
	by := map[string]*count{}
	var dirs []string
	total := count{}
	for _, s := range scripts {
		d := filepath.Dir(s)
		if parts := strings.Split(s, "/"); len(parts) > 2 {
			d = parts[0] + "/" + parts[1]
		}
		if by[d] == nil {
			by[d] = &count{}
			dirs = append(dirs, d)
		}
		by[d].all++
		total.all++
		if res[s].Status == Pass {
			by[d].pass++
			total.pass++
		}
	}
	sort.Strings(dirs)
	parts := []string{fmt.Sprintf("%d/%d passed", total.pass, total.all)}
	for _, d := range dirs {
		parts = append(parts, fmt.Sprintf("%s %d/%d", d, by[d].pass, by[d].all))
	}
	return strings.Join(parts, "; ")
}

func writeCorpusExpect(t *testing.T, scripts []string, exp map[string]*corpusExpect, results map[string]map[string]Result) {
	var b strings.Builder
	b.WriteString(corpusExpectHeader)
	for _, s := range scripts {
		e := exp[s]
		if e == nil {
			e = &corpusExpect{path: s, status: map[string]Status{"threeway": Fail, "linux": Fail}}
		}
		for be, res := range results {
			r, ok := res[s]
			if !ok || e.status[be] == flaky {
				continue
			}
			if be == "linux" && r.Status == Fail && strings.Contains(r.Msg, "timing: ") {
				// A missed tolerance says nothing about the script: keep
				// what was expected (a new script is expected to pass).
				if exp[s] == nil {
					e.status[be] = Pass
				}
				continue
			}
			e.status[be] = r.Status
		}
		fmt.Fprintf(&b, "%s threeway=%s linux=%s", s, e.status["threeway"], e.status["linux"])
		if e.status["threeway"] == Fail || e.status["linux"] != Pass {
			reason := e.reason
			if reason == "" {
				reason = "TODO"
				for _, be := range Backends {
					if e.status[be] == Fail {
						reason += " " + be + ": " + strings.ReplaceAll(results[be][s].Msg, "|", "/")
					}
				}
			}
			fmt.Fprintf(&b, " | %s", reason)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(corpusExpectFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const corpusExpectHeader = `# The packetdrill corpus (google/packetdrill's scripts, read from
# ../shared/packetdrill) and each script's expected status on each backend,
# checked by TestCorpus (go test ./conform -run TestCorpus): a script that
# changes status fails the test. Each expected failure says why:
#   "linux: ..." a failure of the Linux backend (the kernel here differs
#                from the one the script was written for, or the runner
#                lacks something it needs);
#   linux=FLAKY: the outcome on Linux depends on what the kernel measures
#                in real time (its TSO sizing follows RTT and pacing):
#                either is accepted;
#   "threeway: ..." a Linux policy threeway does not share, or a feature
#                tracked in another issue (Fast Open, SACK recovery,
#                RACK-TLP, ECN, CUBIC, ...): those lines flip when it lands.
# Rewrite the statuses after a change with
#   go test ./conform -run TestCorpus -corpus.update
# then write the reason of every new failure (TODO marks them).
#
# PATH threeway=STATUS linux=STATUS | REASON
`
