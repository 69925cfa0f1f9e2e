package threeway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"

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
