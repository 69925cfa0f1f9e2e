package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/tcp"
)

func init() {
	commands["dial"] = &command{
		summary: "connect over a TUN device and copy stdin/stdout, like netcat",
		run:     runDial,
	}
}

func runDial(args []string) error {
	fs := newFlagSet("dial", "dial --tun NAME --addr CIDR [--addr CIDR ...] HOST:PORT [--pcap FILE] [--ladder[=PORT]]")
	var tf tunFlags
	tf.register(fs)
	var lad ladderFlag
	lad.register(fs)
	// Flags may follow the address, as in the synopsis.
	var target string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		if target != "" {
			return fmt.Errorf("dial takes one HOST:PORT")
		}
		target = fs.Arg(0)
		args = fs.Args()[1:]
	}
	if target == "" {
		fs.Usage()
		return errUsage
	}
	tf.tracer = lad.tracer(os.Stderr)
	s, closeAll, err := tf.stack()
	if err != nil {
		return err
	}
	defer closeAll()
	c, err := s.Dial("tcp", target)
	if err != nil {
		return err
	}
	tc := c.(*threeway.Conn)
	upload := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, os.Stdin)
		if err == nil {
			err = tc.CloseWrite() // half-close on stdin EOF
		}
		upload <- err
	}()
	_, rerr := io.Copy(os.Stdout, c)
	if rerr != nil {
		c.Close()
		return rerr
	}
	// The peer closed its side; wait for our side to finish sending.
	select {
	case err := <-upload:
		if err != nil && !errors.Is(err, io.EOF) {
			c.Close()
			return err
		}
	default:
		// stdin still open but the peer is done: like nc -N, stop.
	}
	if err := c.Close(); err != nil {
		return err
	}
	waitClosed(tc, 3*time.Second)
	return nil
}

// waitClosed gives the closing handshake time to finish before the stack
// goes away (closing the stack would reset the connection).
func waitClosed(c *threeway.Conn, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		switch c.State() {
		case tcp.Closed, tcp.TimeWait:
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
