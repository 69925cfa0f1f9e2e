package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/tcp"
)

func init() {
	commands["serve"] = &command{
		summary: "serve echo, discard or http on a TUN device until SIGINT/SIGTERM (SIGUSR1 prints each connection's tcp_info, like ss -ti)",
		run:     runServe,
	}
}

func runServe(args []string) error {
	fs := newFlagSet("serve", "serve --tun NAME --addr CIDR [--addr CIDR ...] --listen :PORT --app echo|discard|http [--pcap FILE] [--ladder[=PORT]]")
	var tf tunFlags
	tf.register(fs)
	var lad ladderFlag
	lad.register(fs)
	listen := fs.String("listen", ":80", "address to listen on")
	app := fs.String("app", "echo", "echo, discard or http")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	handle, err := appHandler(*app)
	if err != nil {
		return err
	}
	tf.tracer = lad.tracer(os.Stderr)
	s, closeAll, err := tf.stack()
	if err != nil {
		return err
	}
	defer closeAll()
	l, err := s.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "threeway: serving %s on %s at %v (%s)\n", *app, tf.dev, l.Addr(), tf.addrs.String())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		l.Close()
	}()
	conns := &liveConns{m: map[*threeway.Conn]bool{}}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for range usr1 {
			conns.print(os.Stderr)
		}
	}()
	handle(logAccepts{l, conns})
	stats := s.Stats()
	printStats(os.Stdout, &stats)
	return nil
}

// logAccepts logs one line per accepted connection, with what its
// handshake negotiated.
type logAccepts struct {
	net.Listener
	conns *liveConns
}

// liveConns are the accepted connections, for SIGUSR1's report.
type liveConns struct {
	mu sync.Mutex
	m  map[*threeway.Conn]bool
}

func (l *liveConns) add(c *threeway.Conn) {
	l.mu.Lock()
	l.m[c] = true
	l.mu.Unlock()
}

// print writes one line per open connection, as `ss -ti` does, and
// forgets the closed ones.
func (l *liveConns) print(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.m {
		in := c.Info()
		if in.State == tcp.Closed {
			delete(l.m, c)
			continue
		}
		fmt.Fprintf(w, "%v -> %v %s\n", c.LocalAddr(), c.RemoteAddr(), in)
	}
}

func (l logAccepts) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*threeway.Conn); ok {
		if l.conns != nil {
			l.conns.add(tc)
		}
		n := tc.Negotiated()
		fmt.Fprintf(os.Stderr, "accept %v -> %v mss_sent=%d peer_mss=%d wscale=%t wscale_sent=%d peer_wscale=%d sack=%t ts=%t\n",
			c.RemoteAddr(), c.LocalAddr(), n.AdvertisedMSS, n.SendMSS, n.WindowScale, n.RecvShift, n.SendShift, n.SACK, n.Timestamps)
	}
	return c, nil
}

// appHandler returns the loop serving one listener with the named app.
func appHandler(name string) (func(net.Listener), error) {
	each := func(f func(net.Conn)) func(net.Listener) {
		return func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					f(c)
				}()
			}
		}
	}
	switch name {
	case "echo":
		return each(func(c net.Conn) { io.Copy(c, c) }), nil
	case "discard":
		return each(func(c net.Conn) { io.Copy(io.Discard, c) }), nil
	case "http":
		return func(l net.Listener) { http.Serve(l, httpApp()) }, nil
	}
	return nil, fmt.Errorf("unknown --app %q (want echo, discard or http)", name)
}

// httpApp answers GET / and GET /bytes/N (N bytes of the pattern
// byte(i % 251), which tests can recompute).
func httpApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "threeway says hello\n")
	})
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
		if err != nil || n < 0 || n > 1<<34 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		var buf [251 * 64]byte
		for i := range buf {
			buf[i] = byte(i % 251)
		}
		for n > 0 {
			k := min(n, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	return mux
}

func printStats(w io.Writer, st *threeway.Stats) {
	m := st.Map()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s %v\n", k, m[k])
	}
}
