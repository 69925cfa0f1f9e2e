package threeway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
)

// An HTTP server from net/http on a threeway listener, and a client whose
// transport dials through another threeway stack; the two stacks share an
// in-memory link.
func Example() {
	a, b := link.Pipe(link.PipeConfig{})
	server, _ := threeway.New(threeway.Options{Link: b, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}})
	client, _ := threeway.New(threeway.Options{Link: a, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}})
	defer server.Close()
	defer client.Close()

	l, _ := server.Listen("tcp", ":80")
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from threeway")
	}))

	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	resp, err := hc.Get("http://192.0.2.2/")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, " ", string(body))
	// Output: 200 OK hello from threeway
}

// A Dialer carries the options of one active open: the local address, a
// timeout on the stack's clock, buffers, keep-alive, Nagle, a Control hook,
// Fast Open, the congestion control algorithm. Dial returns a net.Conn
// that is a *threeway.Conn for TCP.
func ExampleDialer() {
	a, b := link.Pipe(link.PipeConfig{})
	server, _ := threeway.New(threeway.Options{Link: b, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}})
	client, _ := threeway.New(threeway.Options{Link: a, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}})
	defer server.Close()
	defer client.Close()
	l, _ := server.Listen("tcp", ":7")
	go func() {
		c, _ := l.Accept()
		io.Copy(c, c)
		c.Close()
	}()

	d := &threeway.Dialer{
		Stack:      client,
		LocalAddr:  netip.MustParseAddrPort("192.0.2.1:40000"),
		Timeout:    10 * time.Second,
		RecvBuffer: 64 << 10,
		KeepAlive:  30 * time.Second,
	}
	nc, err := d.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		panic(err)
	}
	c := nc.(*threeway.Conn)
	c.Write([]byte("ping"))
	c.CloseWrite()
	echo, _ := io.ReadAll(c)
	c.Close()
	fmt.Println(c.LocalAddr(), string(echo))
	// Output: 192.0.2.1:40000 ping
}
