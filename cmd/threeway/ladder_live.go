package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/ladder"
)

// ladderFlag is --ladder (every connection) or --ladder=PORT (those with
// PORT at either end): draw a live ladder on stderr. serve and dial
// register it next to their tunFlags and set tunFlags.tracer from it; a
// command that builds its stack another way passes tracer's result as
// threeway.Options.Tracer.
type ladderFlag struct {
	on   bool
	port uint16
}

func (f *ladderFlag) String() string {
	switch {
	case !f.on:
		return ""
	case f.port == 0:
		return "all"
	}
	return strconv.Itoa(int(f.port))
}

func (f *ladderFlag) Set(v string) error {
	switch v {
	case "true", "all":
		f.on, f.port = true, 0
		return nil
	case "false":
		f.on = false
		return nil
	}
	p, err := strconv.ParseUint(v, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("--ladder takes no value or a port, not %q", v)
	}
	f.on, f.port = true, uint16(p)
	return nil
}

// IsBoolFlag lets --ladder stand alone.
func (f *ladderFlag) IsBoolFlag() bool { return true }

func (f *ladderFlag) register(fs *flag.FlagSet) {
	fs.Var(f, "ladder", "draw each connection's segments and state changes on stderr as they happen; "+
		"--ladder=PORT only those with PORT at either end")
}

// tracer returns the live ladder the flag asks for, drawing to w, or nil.
func (f *ladderFlag) tracer(w io.Writer) threeway.Tracer {
	if !f.on {
		return nil
	}
	color := os.Getenv("NO_COLOR") == "" && isTerminal(w)
	return ladder.NewTracer(w, ladder.TracerConfig{Port: f.port, Color: color})
}
