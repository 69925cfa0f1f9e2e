package netstack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

const bulkSize = 16 << 20

var bulk = sync.OnceValue(func() []byte {
	b := make([]byte, bulkSize)
	r := rand.NewChaCha8([32]byte{'w', 'g'})
	r.Read(b)
	return b
})

// serveHTTP serves GET /bulk (the 16 MiB) and POST /sha (the body's
// SHA-256) on addr inside the tunnel.
func serveHTTP(tb testing.TB, n tunnelNet, addr netip.AddrPort) {
	tb.Helper()
	l, err := n.listenTCP(addr)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bulk", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(bulkSize))
		w.Write(bulk())
	})
	mux.HandleFunc("POST /sha", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		io.Copy(h, r.Body)
		fmt.Fprint(w, hex.EncodeToString(h.Sum(nil)))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
}

func httpClient(n tunnelNet) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: n.DialContext}, Timeout: 60 * time.Second}
}

func TestHTTPOverTunnel(t *testing.T) {
	want := sha256.Sum256(bulk())
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			tn := newTunnel(t, be)
			for _, server := range []netip.AddrPort{netip.AddrPortFrom(addrB4, 80), netip.AddrPortFrom(addrB6, 80)} {
				serveHTTP(t, tn.b, server)
				url := "http://" + server.String()
				c := httpClient(tn.a)
				// B to A: the download.
				resp, err := c.Get(url + "/bulk")
				if err != nil {
					t.Fatalf("%s: %v", server, err)
				}
				h := sha256.New()
				n, err := io.Copy(h, resp.Body)
				resp.Body.Close()
				if err != nil || n != bulkSize || !bytes.Equal(h.Sum(nil), want[:]) {
					t.Fatalf("%s: downloaded %d bytes (%v), SHA-256 match %v", server, n, err, bytes.Equal(h.Sum(nil), want[:]))
				}
				// A to B: the upload.
				resp, err = c.Post(url+"/sha", "application/octet-stream", bytes.NewReader(bulk()))
				if err != nil {
					t.Fatalf("%s: %v", server, err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != hex.EncodeToString(want[:]) {
					t.Fatalf("%s: server hashed the upload as %s", server, got)
				}
				c.CloseIdleConnections()
			}
		})
	}
}

// udpEchoServer answers every datagram on c with the same bytes.
func udpEchoServer(c net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

// udpRoundTrips sends datagrams of sizes up to what the tunnel carries
// and checks each echo, resending a few times since UDP may lose one
// while the tunnel's handshake is under way.
func udpRoundTrips(t *testing.T, client tunnelNet, server netip.AddrPort) {
	t.Helper()
	c, err := client.DialContext(context.Background(), "udp", server.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ipHeader := 20
	if !server.Addr().Is4() {
		ipHeader = 40
	}
	buf := make([]byte, 65536)
	for i, size := range []int{1, 100, 512, 1200, tunnelMTU - ipHeader - 8} {
		msg := bytes.Repeat([]byte{byte(i + 1)}, size)
		ok := false
		for try := 0; try < 10 && !ok; try++ {
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := c.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf[:n], msg) {
				t.Fatalf("%s: echo of %d bytes came back as %d", server, size, n)
			}
			ok = true
		}
		if !ok {
			t.Fatalf("%s: no echo of %d bytes", server, size)
		}
	}
}

func TestUDPOverTunnel(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			tn := newTunnel(t, be)
			for _, dir := range []struct {
				name           string
				client, server tunnelNet
				at             []netip.Addr
			}{{"A to B", tn.a, tn.b, []netip.Addr{addrB4, addrB6}}, {"B to A", tn.b, tn.a, []netip.Addr{addrA4, addrA6}}} {
				for _, a := range dir.at {
					ap := netip.AddrPortFrom(a, 7)
					pc, err := dir.server.listenUDP(ap)
					if err != nil {
						t.Fatal(err)
					}
					go udpEchoServer(pc)
					udpRoundTrips(t, dir.client, ap)
					pc.Close()
				}
			}
		})
	}
}

// serveDNS answers A and AAAA queries for web.test. on B's UDP port 53.
func serveDNS(t *testing.T, n tunnelNet) {
	pc, err := n.listenUDP(netip.AddrPortFrom(addrB4, 53))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:k])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			if q.Name.String() != "web.test." {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			}
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			if q.Name.String() == "web.test." {
				switch q.Type {
				case dnsmessage.TypeA:
					b.AResource(rh, dnsmessage.AResource{A: addrB4.As4()})
				case dnsmessage.TypeAAAA:
					b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: addrB6.As16()})
				}
			}
			out, err := b.Finish()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
}

// LookupHost and DialContext resolve names through the tunnel's DNS
// server, as wireguard-go's netstack does.
func TestLookupHostThroughTunnel(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			tn := newTunnel(t, be)
			serveDNS(t, tn.b)
			got, err := tn.a.LookupHost("web.test")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0] != addrB6.String() || got[1] != addrB4.String() {
				t.Fatalf("LookupHost = %v", got)
			}
			var dnsErr *net.DNSError
			if _, err := tn.a.LookupHost("nowhere.test"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
				t.Fatalf("LookupHost(nowhere.test) = %v", err)
			}
			serveHTTP(t, tn.b, netip.AddrPortFrom(addrB6, 80))
			c := httpClient(tn.a)
			resp, err := c.Post("http://web.test/sha", "text/plain", bytes.NewReader([]byte("by name")))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sum := sha256.Sum256([]byte("by name"))
			if string(body) != hex.EncodeToString(sum[:]) {
				t.Fatalf("POST by name: %q", body)
			}
			c.CloseIdleConnections()
		})
	}
}

// Ping sockets: echo requests through the tunnel are answered by the far
// stack, IPv4 and IPv6, the reply carrying the request's sequence and data.
func TestPingOverTunnel(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			tn := newTunnel(t, be)
			for _, dst := range []netip.Addr{addrB4, addrB6} {
				c, err := tn.a.dialPing(netip.Addr{}, dst)
				if err != nil {
					t.Fatal(err)
				}
				req := []byte{8, 0, 0, 0, 0, 0, 0, 7, 'h', 'i'}
				reply := uint8(0)
				if dst.Is6() {
					req[0], reply = 128, 129
				}
				buf := make([]byte, 100)
				var k int
				for try := 0; try < 5; try++ {
					if _, err := c.Write(req); err != nil {
						t.Fatal(err)
					}
					c.SetReadDeadline(time.Now().Add(2 * time.Second))
					if k, err = c.Read(buf); err == nil {
						break
					}
				}
				if err != nil {
					t.Fatalf("%s: %v", dst, err)
				}
				if k != len(req) || buf[0] != reply || buf[7] != 7 || string(buf[8:k]) != "hi" {
					t.Fatalf("%s: reply % x", dst, buf[:k])
				}
				c.Close()
			}
		})
	}
}
