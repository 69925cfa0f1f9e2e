// Command httptunnel runs an HTTP server and client over a wireguard
// tunnel between two wireguard-go devices in one process, each on its own
// threeway stack; the devices meet over the kernel's UDP on 127.0.0.1.
//
//	go run ./example/httptunnel
package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"

	"github.com/threeway-tcp/threeway/wireguard/netstack"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// peer is one end of the tunnel.
type peer struct {
	dev       *device.Device
	net       *netstack.Net
	addr      netip.Addr
	pub, priv string
	port      string
}

func newPeer(addr netip.Addr) (*peer, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	p := &peer{addr: addr, priv: hex.EncodeToString(k.Bytes()), pub: hex.EncodeToString(k.PublicKey().Bytes())}
	// The one line that differs from wireguard-go's gVisor version is
	// the import path of netstack.
	tunDev, tnet, err := netstack.CreateNetTUN([]netip.Addr{addr}, nil, 1420)
	if err != nil {
		return nil, err
	}
	p.net = tnet
	p.dev = device.NewDevice(tunDev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelError, addr.String()+": "))
	if err := p.dev.IpcSet("private_key=" + p.priv + "\nlisten_port=0\n"); err != nil {
		return nil, err
	}
	if err := p.dev.Up(); err != nil {
		return nil, err
	}
	conf, err := p.dev.IpcGet()
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(conf, "\n") {
		if v, ok := strings.CutPrefix(line, "listen_port="); ok {
			p.port = v
		}
	}
	return p, nil
}

// knows tells p about the other end: its key, where its UDP socket is and
// which tunnel address is behind it.
func (p *peer) knows(o *peer) error {
	return p.dev.IpcSet(fmt.Sprintf("public_key=%s\nendpoint=127.0.0.1:%s\nallowed_ip=%s/32\n", o.pub, o.port, o.addr))
}

func run(out io.Writer) error {
	server, err := newPeer(netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		return err
	}
	defer server.dev.Close()
	client, err := newPeer(netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		return err
	}
	defer client.dev.Close()
	if err := server.knows(client); err != nil {
		return err
	}
	if err := client.knows(server); err != nil {
		return err
	}

	l, err := server.net.ListenTCP(&net.TCPAddr{Port: 80})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s, from %s over wireguard on threeway\n", r.RemoteAddr, r.Host)
	})}
	go srv.Serve(l)
	defer srv.Close()

	c := &http.Client{Transport: &http.Transport{DialContext: client.net.DialContext}}
	resp, err := c.Get("http://" + server.addr.String() + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(out, resp.Body)
	return err
}
