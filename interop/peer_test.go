package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// peerEnv names the kernel-side peer mode when the test binary is
// re-executed inside a namespace: the kernel's own TCP, through package net.
const peerEnv = "THREEWAY_INTEROP_PEER"

// pattern writes n bytes of byte(i % 251), what `serve --app http` sends.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// runPeer is the kernel-side program; arg is "addr" or "addr,N".
func runPeer(mode, arg string) int {
	addr, nstr, _ := strings.Cut(arg, ",")
	n, _ := strconv.Atoi(nstr)
	fail := func(err error) int {
		fmt.Println("error:", err)
		return 1
	}
	accept := func() (net.Conn, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		fmt.Println("listening")
		return l.Accept()
	}
	switch mode {
	case "sink": // read everything, print its length and SHA-256
		c, err := accept()
		if err != nil {
			return fail(err)
		}
		h := sha256.New()
		k, err := io.Copy(h, c)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("%d %s\n", k, hex.EncodeToString(h.Sum(nil)))
		c.Close()
	case "source": // send n bytes of the pattern, then close
		c, err := accept()
		if err != nil {
			return fail(err)
		}
		if _, err := c.Write(pattern(n)); err != nil {
			return fail(err)
		}
		c.Close()
		fmt.Println("sent")
	case "reset": // accept, read a line, then abort with a RST
		c, err := accept()
		if err != nil {
			return fail(err)
		}
		buf := make([]byte, 100)
		c.Read(buf)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		fmt.Println("reset sent")
	case "dial": // connect and report the error, if any
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return fail(err)
		}
		c.Close()
		fmt.Println("connected")
	case "hold": // connect, say ready, wait for stdin to close
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return fail(err)
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		c.Close()
	case "readreset": // connect, send a line, read until the connection fails
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return fail(err)
		}
		c.Write([]byte("hello\n"))
		fmt.Println("ready")
		_, err = io.Copy(io.Discard, c)
		if err == nil {
			fmt.Println("clean EOF")
			return 0
		}
		fmt.Println("error:", err)
	case "many": // n sequential then n parallel echo exchanges
		one := func(i int) error {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			msg := []byte(fmt.Sprintf("message %d\n", i))
			if _, err := c.Write(msg); err != nil {
				return err
			}
			c.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(c)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, msg) {
				return fmt.Errorf("conn %d: echo %q", i, got)
			}
			return nil
		}
		for i := 0; i < n; i++ {
			if err := one(i); err != nil {
				return fail(fmt.Errorf("sequential: %w", err))
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := one(i); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := errors.Join(func() []error {
			var all []error
			for e := range errs {
				all = append(all, e)
			}
			return all
		}()...); err != nil {
			return fail(fmt.Errorf("parallel: %w", err))
		}
		fmt.Printf("ok %d\n", 2*n)
	default:
		if code, ok := fastOpenPeer(mode, arg); ok {
			return code
		}
		return fail(fmt.Errorf("unknown peer mode %q", mode))
	}
	return 0
}

// peer runs the kernel-side peer inside n.
type peer struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startPeer starts a peer in mode with arg and, for listening modes, waits
// until it listens.
func (n *netns) startPeer(mode, arg string, stdin io.Reader) *peer {
	n.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		n.t.Fatal(err)
	}
	c := n.cmd(exe, "-test.run=^$", arg)
	c.Env = append(os.Environ(), peerEnv+"="+mode)
	p := &peer{cmd: c, out: &syncBuffer{}, done: make(chan error, 1)}
	c.Stdout, c.Stderr = p.out, p.out
	c.Stdin = stdin
	if err := c.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() { p.done <- c.Wait() }()
	n.t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
			<-p.done
		}
	})
	switch mode {
	case "sink", "source", "reset":
		p.waitFor(n.t, "listening", 10*time.Second)
	}
	return p
}

func (p *peer) waitFor(t interface {
	Fatalf(string, ...any)
	Helper()
}, s string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("peer never said %q: %s", s, p.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait waits for the peer to exit and returns its output.
func (p *peer) wait(limit time.Duration) (string, error) {
	select {
	case err := <-p.done:
		return p.out.String(), err
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		return p.out.String(), errors.New("peer timed out")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
