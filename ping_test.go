package threeway

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// echoRequest is an echo request message as a ping socket's user writes
// it: identifier and checksum are the stack's to fill in.
func echoRequest(v6 bool, seq uint16, data []byte) []byte {
	m := make([]byte, wire.ICMPHeaderLen+len(data))
	m[0] = wire.ICMPv4EchoRequest
	if v6 {
		m[0] = wire.ICMPv6EchoRequest
	}
	m[6], m[7] = byte(seq>>8), byte(seq)
	copy(m[wire.ICMPHeaderLen:], data)
	return m
}

// RFC 792, RFC 4443 §4: a ping socket's echo requests go out with its
// identifier; the peer's replies to that identifier come back to it.
func TestPingSocket(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	for _, tc := range []struct {
		network string
		dst     netip.Addr
	}{{"ping4", serverAddr.Addr()}, {"ping6", server6.Addr()}} {
		c, err := n.client.ListenPing(tc.network, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		other, _ := n.client.ListenPing(tc.network, netip.Addr{})
		c.SetDeadline(time.Now().Add(10 * time.Second))
		for seq := uint16(1); seq <= 3; seq++ {
			data := []byte("ping " + tc.network)
			if _, err := c.WriteToAddr(echoRequest(tc.network == "ping6", seq, data), tc.dst); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			k, from, err := c.ReadFromAddr(buf)
			if err != nil {
				t.Fatal(err)
			}
			var m wire.ICMP
			if tc.network == "ping4" {
				m, err = wire.ParseICMPv4(buf[:k])
			} else {
				m, err = wire.ParseICMPv6(from, client6.Addr(), buf[:k])
			}
			want := uint8(wire.ICMPv4EchoReply)
			if tc.network == "ping6" {
				want = wire.ICMPv6EchoReply
			}
			if err != nil || from != tc.dst || m.Type() != want || m.RestOfHeader() != uint32(c.Identifier())<<16|uint32(seq) || !bytes.Equal(m.Body(), data) {
				t.Fatalf("%s: reply %v from %v: % x", tc.network, err, from, buf[:k])
			}
		}
		// The other socket's identifier heard nothing.
		other.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := other.ReadFromAddr(make([]byte, 100)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: another identifier's socket read %v", tc.network, err)
		}
		// Not an echo request, or the wrong family: EINVAL.
		if _, err := c.WriteToAddr([]byte{3, 0, 0, 0, 0, 0, 0, 0}, tc.dst); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("%s: writing a non-echo message: %v", tc.network, err)
		}
		c.Close()
		other.Close()
	}
	if _, err := n.client.ListenPing("ping", netip.Addr{}); err == nil {
		t.Fatal("network ping accepted")
	}
	if _, err := n.client.ListenPing("ping4", server6.Addr()); err == nil {
		t.Fatal("an IPv6 address accepted for ping4")
	}
}
