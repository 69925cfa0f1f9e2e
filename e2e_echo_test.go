package threeway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
)

func TestEchoOverPipe(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l, err := n.server.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello, threeway")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.(*Conn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo = %q", got)
	}
	c.Close()
}

func TestEchoIPv6(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7") // "tcp" with no host: both families
	type accepted struct {
		c   net.Conn
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		acc <- accepted{c, err}
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := n.client.Dial("tcp", "[2001:db8::2]:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := <-acc
	if a.err != nil {
		t.Fatal(a.err)
	}
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	if local.Addr() != client6.Addr() || remote != netip.MustParseAddrPort("[2001:db8::2]:7") {
		t.Errorf("client endpoints %v -> %v", local, remote)
	}
	if got := a.c.RemoteAddr().(*net.TCPAddr).AddrPort(); got != local {
		t.Errorf("server sees peer %v, client is %v", got, local)
	}
	if mss := c.(*Conn).Negotiated().SendMSS; mss != 1500-60 {
		t.Errorf("IPv6 send MSS = %d, want 1440", mss)
	}
	msg := bytes.Repeat([]byte("v6 "), 2000) // several segments
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.(*Conn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %d bytes, want %d", len(got), len(msg))
	}
}

// TestIOCopy moves 1 MiB each way with io.Copy: client -> server with
// io.Copy(conn, reader), the server echoes with io.Copy(conn, conn), and
// the client drains with io.Copy(writer, conn).
func TestIOCopy(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 1 << 20
	src := make([]byte, size)
	newStream(7, size).Read(src)
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, bytes.NewReader(src))
		if err == nil {
			err = c.(*Conn).CloseWrite()
		}
		done <- err
	}()
	var dst bytes.Buffer
	nr, err := io.Copy(&dst, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if nr != size || !bytes.Equal(dst.Bytes(), src) {
		t.Fatalf("io.Copy round trip: got %d bytes, equal=%v", nr, bytes.Equal(dst.Bytes(), src))
	}
}

// TestHTTP runs net/http's server on a threeway listener and its client
// over a threeway dialer.
func TestHTTP(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, "192.0.2.2:80")
	const size = 1 << 20
	body := make([]byte, size)
	newStream(80, size).Read(body)
	want := sha256.Sum256(body)

	mux := http.NewServeMux()
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	srv := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return n.client.DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for i := range 2 { // the second request reuses the kept-alive connection
		resp, err := hc.Get("http://192.0.2.2/blob")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d: reading body: %v", i, err)
		}
		if resp.StatusCode != http.StatusOK || len(got) != size || sha256.Sum256(got) != want {
			t.Fatalf("request %d: status %d, %d bytes, want 200 and %d matching bytes", i, resp.StatusCode, len(got), size)
		}
	}
	if st := n.client.Stats(); st.ActiveOpens != 1 {
		t.Errorf("client made %d connections for two requests, want 1 (keep-alive)", st.ActiveOpens)
	}
	tr.CloseIdleConnections()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve returned %v", err)
	}
}
