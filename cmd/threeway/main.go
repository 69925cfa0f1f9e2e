// Command threeway drives the threeway userspace TCP/IP stack from the
// command line.
//
// Usage:
//
//	threeway <command> [flags]
//
// Each subcommand lives in its own file and registers itself in init by
// adding an entry to commands. "threeway help" (or no arguments) lists
// them; "threeway <command> -h" shows a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: a one-line summary for the usage listing and
// the function that runs it with the arguments after its name.
type command struct {
	summary string
	run     func(args []string) error
}

// commands holds every subcommand by name. Subcommand files add
// themselves in an init function.
var commands = map[string]*command{}

// errUsage reports bad flags or arguments. The flag set has already
// printed the problem and the command's usage, so main only exits 2.
var errUsage = errors.New("usage error")

// flagOutput is where flag sets report problems and usage.
var flagOutput io.Writer = os.Stderr

// newFlagSet returns a ContinueOnError flag set for a subcommand whose
// usage message starts with the synopsis line.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(flagOutput)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: threeway %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs. -h and --help return flag.ErrHelp; any
// other problem returns errUsage (after the flag set has said what was
// wrong).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// usage writes the command listing to w.
func usage(w io.Writer) {
	fmt.Fprintf(w, "threeway: a userspace TCP/IP stack\n\n")
	fmt.Fprintf(w, "usage: threeway <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	width := len("help")
	for name := range commands {
		names = append(names, name)
		width = max(width, len(name))
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, name, commands[name].summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show this list")
	fmt.Fprintf(w, "\nRun \"threeway <command> -h\" for a command's flags.\n")
}

// dispatch runs the command named by args[0] and returns the process's
// exit status.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := commands[args[1]]; c != nil {
				// "threeway help demo" is "threeway demo -h".
				return finish(c.run([]string{"-h"}), stderr)
			}
		}
		usage(stdout)
		return 0
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(stderr, "threeway: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return finish(c.run(args[1:]), stderr)
}

// finish turns a command's error into an exit status.
func finish(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "threeway: %v\n", err)
		return 1
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}
