package main

import (
	"fmt"
	"io"
	"os"

	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/seqplot"
)

func init() {
	commands["plot"] = &command{
		summary: "draw a time-sequence plot (tcptrace style) of a connection in a capture as SVG",
		run:     func(args []string) error { return plotCommand(args, os.Stdout, os.Stderr) },
	}
}

const plotSynopsis = "plot FILE [--conn INDEX|CLIENT,SERVER] [--from client|server] -o OUT.svg"

func plotCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", plotSynopsis)
	conn := fs.String("conn", "", "the connection: its `INDEX` in `threeway ladder FILE`'s listing, or its two endpoints; "+
		"may be left out when the capture has one connection")
	from := fs.String("from", "", "plot the data sent by the client or the server (default: whichever sent more)")
	out := fs.String("o", "-", "write the SVG to `FILE` (- for stdout)")
	path, err := parseFileArgs(fs, args)
	if err != nil {
		return err
	}
	l, err := loadCapture(path)
	if err != nil {
		return err
	}
	l.warnings(stderr)
	var c *ladder.Conn
	switch {
	case *conn != "":
		if c, err = l.pick(*conn); err != nil {
			return err
		}
	case len(l.conns) == 1:
		c = l.conns[0]
	default:
		l.list(stderr)
		return fmt.Errorf("plot: %s has %d connections: pick one with --conn", path, len(l.conns))
	}
	side := ladder.Client
	switch *from {
	case "client":
	case "server":
		side = ladder.Server
	case "":
		if c.Bytes[ladder.Server] > c.Bytes[ladder.Client] {
			side = ladder.Server
		}
	default:
		return fmt.Errorf("plot: --from %q: want client or server", *from)
	}
	p := seqplot.FromConn(c, side)
	if *out == "-" {
		return p.WriteSVG(stdout)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := p.WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
