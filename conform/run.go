package conform

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Status is a script's outcome.
type Status string

// Outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
	// Marked is a script that fails on Linux as its linux-differs
	// marker says it will: it pins a behaviour the kernel does not
	// share. It counts as passed.
	Marked Status = "MARKED"
)

// Result is what running one script gave.
type Result struct {
	Name    string
	Backend string
	Status  Status
	// Line is the failing line (0 if none or not tied to a line).
	Line int
	// Msg explains a failure, a skip, or (Marked) the marker and the
	// failure it covers.
	Msg     string
	Notes   []string
	Elapsed time.Duration
}

// String is the result's report line: "PASS name", "FAIL name: line N:
// ...", "MARKED name: ...", "SKIP name: ...".
func (r Result) String() string {
	if r.Status == Pass {
		return fmt.Sprintf("PASS %s", r.Name)
	}
	return fmt.Sprintf("%s %s: %s", r.Status, r.Name, r.Msg)
}

// Backends lists the backend names.
var Backends = []string{"threeway", "linux"}

func newBackend(name string) (backend, error) {
	switch name {
	case "threeway":
		return newThreewayBackend(), nil
	case "linux":
		if err := LinuxAvailable(); err != nil {
			return nil, err
		}
		return newLinuxBackend(), nil
	}
	return nil, fmt.Errorf("unknown backend %q (want threeway or linux)", name)
}

// RunOptions are a run's settings beyond the script's own.
type RunOptions struct {
	// Defines are packetdrill's -D NAME=VALUE definitions.
	Defines map[string]string
	// StrictEnd fails a script for packets the stack sends after its
	// last line (packetdrill leaves them unchecked).
	StrictEnd bool
	// Offloads turns on TSO and GRO on the stack's link, as packetdrill
	// does on its TUN device.
	Offloads bool
}

// RunFile parses and runs one script file on a backend, as packetdrill
// would.
func RunFile(path, backendName string) Result { return RunFileWith(path, backendName, RunOptions{}) }

// RunFileWith parses and runs one script file with options.
func RunFileWith(path, backendName string, o RunOptions) Result {
	s, err := ParseFileDefines(path, o.Defines)
	if err != nil {
		return Result{Name: path, Backend: backendName, Status: Fail, Msg: err.Error()}
	}
	return RunWith(s, backendName, o)
}

// Run runs a parsed script on a backend and judges it, markers included.
func Run(s *Script, backendName string) Result { return RunWith(s, backendName, RunOptions{}) }

// RunWith runs a parsed script with options.
func RunWith(s *Script, backendName string, o RunOptions) Result {
	res := Result{Name: s.Name, Backend: backendName}
	if backendName == "threeway" && s.LinuxOnly != "" {
		res.Status, res.Msg = Skip, "linux-only: "+s.LinuxOnly
		return res
	}
	start := time.Now()
	err := runOnce(s, backendName, o, &res)
	res.Elapsed = time.Since(start)
	var f *failure
	if errors.As(err, &f) {
		res.Line = f.line
	}
	switch {
	case backendName == "linux" && s.LinuxDiffers != "":
		if err == nil {
			res.Status = Fail
			res.Msg = "passed, but its linux-differs marker says Linux fails it (" + s.LinuxDiffers + "): drop the marker?"
		} else {
			res.Status = Marked
			res.Msg = fmt.Sprintf("linux-differs: %s [fails as marked: %v]", s.LinuxDiffers, err)
		}
	case err != nil:
		res.Status, res.Msg = Fail, err.Error()
	default:
		res.Status = Pass
	}
	return res
}

// runOnce is one run of s on a fresh backend.
func runOnce(s *Script, backendName string, o RunOptions, res *Result) (err error) {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	cfg.StrictEnd, cfg.Offloads = o.StrictEnd, o.Offloads
	b, err := newBackend(backendName)
	if err != nil {
		return err
	}
	if err := b.start(cfg); err != nil {
		return fmt.Errorf("starting %s backend: %w", backendName, err)
	}
	defer b.close()
	r := newRunner(s, cfg, b)
	defer func() {
		res.Notes = append(res.Notes, r.notes...)
		if p := recover(); p != nil {
			err = fmt.Errorf("runner panic: %v", p)
		}
	}()
	return r.run()
}

// Summary counts results.
type Summary struct {
	Passed, Failed, Skipped, Marked int
}

// Add counts one result.
func (s *Summary) Add(r Result) {
	switch r.Status {
	case Pass:
		s.Passed++
	case Marked:
		s.Passed++
		s.Marked++
	case Skip:
		s.Skipped++
	default:
		s.Failed++
	}
}

// Closing is the closing line: "N passed, N failed" (", N skipped" when
// any were).
func (s Summary) Closing() string {
	line := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return line
}

// RunAll runs the scripts on a backend, parallel at a time, printing one
// line per script in the order given and returning the counts. verbose
// adds each script's notes.
func RunAll(paths []string, backendName string, parallel int, w io.Writer, verbose bool) Summary {
	return RunAllWith(paths, backendName, parallel, w, verbose, RunOptions{})
}

// RunAllWith is RunAll with run options.
func RunAllWith(paths []string, backendName string, parallel int, w io.Writer, verbose bool, o RunOptions) Summary {
	parallel = max(parallel, 1)
	results := make([]chan Result, len(paths))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, p := range paths {
		results[i] = make(chan Result, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] <- RunFileWith(p, backendName, o)
		}()
	}
	var sum Summary
	for i := range paths {
		r := <-results[i]
		sum.Add(r)
		fmt.Fprintln(w, r)
		if verbose {
			for _, n := range r.Notes {
				fmt.Fprintf(w, "    note: %s\n", n)
			}
		}
	}
	wg.Wait()
	if sum.Marked > 0 {
		fmt.Fprintf(w, "(%d of the passes are linux-differs scripts failing on Linux as marked)\n", sum.Marked)
	}
	fmt.Fprintln(w, sum.Closing())
	return sum
}
