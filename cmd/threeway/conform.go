package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/threeway-tcp/threeway/conform"
)

func init() {
	commands["conform"] = &command{
		summary: "run packetdrill scripts against threeway or the Linux kernel",
		run:     runConform,
	}
}

// conformOut is where conform prints its report (tests replace it).
var conformOut io.Writer = os.Stdout

func runConform(args []string) error {
	fset := newFlagSet("conform", "conform [--backend threeway|linux] [--parallel N] [-v] FILE.pkt|DIR ...")
	backend := fset.String("backend", "threeway", "TCP under test: threeway (in process, virtual clock) or linux (the kernel, in a network namespace)")
	parallel := fset.Int("parallel", 0, "scripts run at once (default: the CPU count for threeway, 8 for linux)")
	verbose := fset.Bool("v", false, "print each script's notes (skipped shell lines and the like)")
	offloads := fset.Bool("offloads", true, "TSO and GRO on the stack's link, as packetdrill's TUN device has them (the project's own scripts run without)")
	strictEnd := fset.Bool("strict-end", false, "fail a script for packets sent after its last line (packetdrill leaves them unchecked)")
	defines := defineFlag{}
	fset.Var(defines, "D", "NAME=VALUE: a word of the scripts that stands for VALUE, as packetdrill's -D (repeatable)")
	// Flags may come after the files too.
	var files []string
	for {
		if err := parseFlags(fset, args); err != nil {
			return err
		}
		if fset.NArg() == 0 {
			break
		}
		files = append(files, fset.Arg(0))
		args = fset.Args()[1:]
	}
	if len(files) == 0 {
		fset.Usage()
		return errUsage
	}
	paths, err := scriptPaths(files)
	if err != nil {
		return err
	}
	if *backend == "linux" {
		if err := conform.LinuxAvailable(); err != nil {
			return err
		}
	} else if *backend != "threeway" {
		return fmt.Errorf("unknown backend %q (want threeway or linux)", *backend)
	}
	par := *parallel
	if par <= 0 {
		par = runtime.NumCPU()
		if *backend == "linux" {
			par = 8
		}
	}
	sum := conform.RunAllWith(paths, *backend, par, conformOut, *verbose, conform.RunOptions{Defines: defines, StrictEnd: *strictEnd, Offloads: *offloads})
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d scripts failed on %s", sum.Failed, len(paths), *backend)
	}
	return nil
}

// scriptPaths expands directories into the .pkt files under them.
func scriptPaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pkt") {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// defineFlag collects -D NAME=VALUE definitions.
type defineFlag map[string]string

func (d defineFlag) String() string { return "" }

func (d defineFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("-D wants NAME=VALUE, not %q", v)
	}
	d[k] = val
	return nil
}
