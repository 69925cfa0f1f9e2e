package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/threeway-tcp/threeway/ladder"
)

func init() {
	commands["ladder"] = &command{
		summary: "draw a TCP connection from a pcap or pcapng capture as a ladder diagram",
		run:     func(args []string) error { return ladderCommand(args, os.Stdout, os.Stderr) },
	}
}

const ladderSynopsis = "ladder FILE [--conn INDEX|CLIENT,SERVER] [--no-color]"

func ladderCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ladder", ladderSynopsis)
	conn := fs.String("conn", "", "the connection to draw: its `INDEX` in the listing, or its two endpoints "+
		"(192.0.2.1:40000,192.0.2.2:80); without it, list the connections")
	noColor := fs.Bool("no-color", false, "no ANSI colours (also off when stdout is not a terminal or NO_COLOR is set)")
	path, err := parseFileArgs(fs, args)
	if err != nil {
		return err
	}
	l, err := loadCapture(path)
	if err != nil {
		return err
	}
	l.warnings(stderr)
	if *conn == "" {
		l.list(stdout)
		return nil
	}
	c, err := l.pick(*conn)
	if err != nil {
		return err
	}
	color := !*noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	return writeLines(stdout, drawConn(c, color))
}

// drawConn draws one connection of a capture.
func drawConn(c *ladder.Conn, color bool) []string {
	head := fmt.Sprintf("Connection %d: %v -> %v, %d packets over %s ms; time in ms since its first packet.",
		c.Index, c.Client, c.Server, len(c.Segs), ladder.CaptureTimeLabel(c.Last.Sub(c.First)))
	return append([]string{head, ""}, ladder.Render(c.Events(), ladder.CaptureStyle(color))...)
}

func writeLines(w io.Writer, lines []string) error {
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// parseFileArgs parses flags that may come before or after one FILE.
func parseFileArgs(fs *flag.FlagSet, args []string) (string, error) {
	var path string
	for {
		if err := parseFlags(fs, args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		if path != "" {
			fmt.Fprintf(fs.Output(), "threeway %s: one FILE, not %q too\n", fs.Name(), fs.Arg(0))
			fs.Usage()
			return "", errUsage
		}
		path = fs.Arg(0)
		args = fs.Args()[1:]
	}
	if path == "" {
		fs.Usage()
		return "", errUsage
	}
	return path, nil
}
