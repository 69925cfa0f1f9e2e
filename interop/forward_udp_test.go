//go:build linux

package interop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// dnsQuery builds a query for name (dotted, no trailing dot) of type qtype
// (1: A, 28: AAAA), with recursion desired (RFC 1035 §4.1).
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, label := range bytes.Split([]byte(name), []byte(".")) {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

// dnsAnswer answers a query with one record of addr, pointing back at the
// question's name (RFC 1035 §4.1.4).
func dnsAnswer(q []byte, addr netip.Addr) []byte {
	r := append([]byte(nil), q...)
	r[2], r[3] = 0x81, 0x80 // response, recursion desired and available
	r[7] = 1                // one answer
	qtype := binary.BigEndian.Uint16(q[len(q)-4:])
	r = append(r, 0xc0, 12)
	r = binary.BigEndian.AppendUint16(r, qtype)
	r = append(r, 0, 1, 0, 0, 0, 60)
	raw := addr.AsSlice()
	r = binary.BigEndian.AppendUint16(r, uint16(len(raw)))
	return append(r, raw...)
}

// A DNS query from the client namespace's kernel to a responder in the
// server namespace goes through `threeway forward`'s UDP relay, IPv4 and
// IPv6, and the answer comes back from the address the client asked.
func TestForwardRelaysDNSOverUDP(t *testing.T) {
	n := newForwardNet(t)
	answer4, answer6 := netip.MustParseAddr("203.0.113.80"), netip.MustParseAddr("2001:db8:80::1")
	for _, addr := range []string{fwdServer4 + ":53", "[" + fwdServer6 + "]:53"} {
		var srv *net.UDPConn
		var err error
		inNetns(t, n.server, func() {
			srv, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := srv.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if k < 17 {
					continue
				}
				a := answer4
				if binary.BigEndian.Uint16(buf[k-4:k]) == 28 {
					a = answer6
				}
				srv.WriteToUDPAddrPort(dnsAnswer(buf[:k], a), from)
			}
		}()
	}
	for i, tc := range []struct {
		server string
		qtype  uint16
		want   netip.Addr
	}{
		{fwdServer4 + ":53", 1, answer4},
		{"[" + fwdServer6 + "]:53", 28, answer6},
		{fwdServer4 + ":53", 28, answer6},
	} {
		var c *net.UDPConn
		var err error
		inNetns(t, n.client, func() {
			c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tc.server)))
		})
		if err != nil {
			t.Fatal(err)
		}
		id := uint16(0x1000 + i)
		q := dnsQuery(id, "web.test", tc.qtype)
		buf := make([]byte, 1500)
		var got []byte
		for try := 0; try < 5 && got == nil; try++ {
			c.Write(q)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			k, err := c.Read(buf)
			if err == nil {
				got = buf[:k]
			}
		}
		c.Close()
		if got == nil {
			t.Fatalf("%s: no answer through the proxy", tc.server)
		}
		raw := tc.want.AsSlice()
		if binary.BigEndian.Uint16(got) != id || got[2]&0x80 == 0 || got[7] != 1 || !bytes.Equal(got[len(got)-len(raw):], raw) {
			t.Fatalf("%s: answer % x", tc.server, got)
		}
	}
	// A closed port upstream: the server's port unreachable reaches the
	// proxy's socket, and the proxy passes it on from the destination.
	var c *net.UDPConn
	var err error
	inNetns(t, n.client, func() {
		c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(fwdServer4+":54")))
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		c.Write(dnsQuery(1, "web.test", 1))
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err = c.Read(make([]byte, 100)); !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
	}
	c.Close()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("client asking a closed port through the proxy: %v", err)
	}
	if v := n.counter("UDPRelay.Flows"); v != 4 {
		t.Errorf("UDPRelay.Flows = %d, want 4", v)
	}
	if v := n.counter("UDPRelay.UpstreamRefused"); v < 1 {
		t.Errorf("UDPRelay.UpstreamRefused = %d", v)
	}
	if v := n.counter("UDPRelay.DatagramsDown"); v < 3 {
		t.Errorf("UDPRelay.DatagramsDown = %d", v)
	}
}
