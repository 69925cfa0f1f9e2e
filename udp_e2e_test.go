package threeway

import (
	"bytes"
	"errors"
	"github.com/threeway-tcp/threeway/host"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// udpEcho answers every datagram on c with the same bytes until c closes.
func udpEcho(c net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

func listenUDP(t *testing.T, s *Stack, network, address string) *UDPConn {
	t.Helper()
	pc, err := s.ListenPacket(network, address)
	if err != nil {
		t.Fatal(err)
	}
	c := pc.(*UDPConn)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDPEchoIPv4AndIPv6(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	srv := listenUDP(t, n.server, "udp", ":7") // both families
	go udpEcho(srv)
	for _, dst := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		c, err := n.client.Dial("udp", dst)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		for i := 0; i < 5; i++ {
			msg := []byte("datagram " + dst + string(rune('a'+i)))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			k, err := c.Read(buf)
			if err != nil || !bytes.Equal(buf[:k], msg) {
				t.Fatalf("%s: echo %q, %v", dst, buf[:k], err)
			}
		}
		want := netip.MustParseAddrPort(dst)
		if got := c.RemoteAddr().(*net.UDPAddr).AddrPort(); got != want {
			t.Errorf("RemoteAddr %v, want %v", got, want)
		}
		local := c.LocalAddr().(*net.UDPAddr).AddrPort()
		if wantSrc := map[bool]netip.Addr{true: clientAddr.Addr(), false: client6.Addr()}[want.Addr().Is4()]; local.Addr() != wantSrc || local.Port() < ephemeralLow {
			t.Errorf("LocalAddr %v", local)
		}
		c.Close()
	}
	st := n.server.Stats().UDP
	if st.InDatagrams != 10 || st.OutDatagrams != 10 || st.InErrors != 0 {
		t.Errorf("server UDP stats %+v", st)
	}
}

func TestUDPPacketConnBothWays(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	a := listenUDP(t, n.client, "udp4", "192.0.2.1:5000")
	b := listenUDP(t, n.server, "udp4", ":6000")
	if got := b.LocalAddr().String(); got != "0.0.0.0:6000" {
		t.Errorf("wildcard LocalAddr %s", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	if _, err := a.WriteTo([]byte("ping"), &net.UDPAddr{IP: net.ParseIP("192.0.2.2"), Port: 6000}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	k, from, err := b.ReadFromUDP(buf)
	if err != nil || string(buf[:k]) != "ping" || from.String() != "192.0.2.1:5000" {
		t.Fatalf("ReadFromUDP %q from %v: %v", buf[:k], from, err)
	}
	if _, err := b.WriteToUDP([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	k, ap, err := a.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:k]) != "pong" || ap != netip.MustParseAddrPort("192.0.2.2:6000") {
		t.Fatalf("ReadFromUDPAddrPort %q from %v: %v", buf[:k], ap, err)
	}
	// A datagram longer than the buffer is cut, and the rest discarded.
	a.WriteToUDPAddrPort([]byte("0123456789abcdef"), ap)
	a.WriteToUDPAddrPort([]byte("next"), ap)
	if k, _, err = b.ReadFrom(buf[:4]); err != nil || string(buf[:k]) != "0123" {
		t.Fatalf("truncated read %q %v", buf[:k], err)
	}
	if k, _, err = b.ReadFrom(buf); err != nil || string(buf[:k]) != "next" {
		t.Fatalf("read after truncation %q %v", buf[:k], err)
	}
}

// Datagrams up to the link MTU go through whole, IPv4 and IPv6; one byte
// more is EMSGSIZE (no fragmentation).
func TestUDPDatagramsUpToMTU(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{MTU: 1500}})
	srv := listenUDP(t, n.server, "udp", ":7")
	go udpEcho(srv)
	for _, tc := range []struct {
		dst string
		max int
	}{{"192.0.2.2:7", 1500 - 28}, {"[2001:db8::2]:7", 1500 - 48}} {
		c, err := n.client.Dial("udp", tc.dst)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		for _, size := range []int{0, 1, 512, tc.max} {
			msg := bytes.Repeat([]byte{byte(size)}, size)
			if _, err := c.Write(msg); err != nil {
				t.Fatalf("%s %d: %v", tc.dst, size, err)
			}
			buf := make([]byte, 2000)
			k, err := c.Read(buf)
			if err != nil || !bytes.Equal(buf[:k], msg) {
				t.Fatalf("%s %d: echo of %d bytes, %v", tc.dst, size, k, err)
			}
		}
		_, err = c.Write(make([]byte, tc.max+1))
		if !errors.Is(err, syscall.EMSGSIZE) {
			t.Fatalf("%s: oversized write: %v", tc.dst, err)
		}
		c.Close()
	}
}

// RFC 1122 §4.1.3.1: a datagram to a closed port gets port unreachable;
// a connected socket hears of it as ECONNREFUSED on its next read.
func TestUDPClosedPortRefusesConnectedSocket(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	for _, dst := range []string{"192.0.2.2:9", "[2001:db8::2]:9"} {
		c, err := n.client.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("anyone?")); err != nil {
			t.Fatal(err)
		}
		_, err = c.Read(make([]byte, 10))
		var op *net.OpError
		if !errors.As(err, &op) || !errors.Is(err, syscall.ECONNREFUSED) || op.Op != "read" {
			t.Fatalf("%s: read after port unreachable: %v", dst, err)
		}
		// The error is reported once (SO_ERROR is cleared by reading it).
		if _, err := c.Write([]byte("again")); err != nil {
			t.Fatalf("%s: write after the error was read: %v", dst, err)
		}
		// ... and the next one shows on the write after it.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := c.Write([]byte("again"))
			if errors.Is(err, syscall.ECONNREFUSED) {
				break
			}
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("%s: write never saw the second refusal: %v", dst, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		c.Close()
	}
	if st := n.server.Stats(); st.UDP.NoPorts < 4 || st.Drops[tcp.DropNoConnection] < 4 {
		t.Errorf("server NoPorts %d", st.UDP.NoPorts)
	}
}

// An unconnected socket is not told of ICMP errors (RFC 1122 §4.1.3.3
// leaves it to the application; Linux reports them only with
// IP_RECVERR).
func TestUDPUnconnectedIgnoresPortUnreachable(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c := listenUDP(t, n.client, "udp", ":0")
	if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("192.0.2.2"), Port: 9}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "datagrams counted", func() bool { return n.server.Stats().UDP.NoPorts == 1 })
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, _, err := c.ReadFrom(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("deadline error is not a timeout: %v", err)
	}
}

// Receive queues are bounded by count; what does not fit is dropped and
// counted, and what fit is read in order.
func TestUDPReceiveQueueBounded(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	srv := listenUDP(t, n.server, "udp4", ":7")
	c, err := n.client.Dial("udp4", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const sent = host.QueueDatagrams + 72
	for i := 0; i < sent; i++ {
		if _, err := c.Write([]byte{byte(i), byte(i >> 8)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "datagrams counted", func() bool {
		st := n.server.Stats().UDP
		return st.InDatagrams+st.RcvbufErrors == sent
	})
	st := n.server.Stats()
	if st.UDP.InDatagrams != host.QueueDatagrams || st.UDP.RcvbufErrors != sent-host.QueueDatagrams ||
		st.DropCounts()["RecvQueueFull"] != sent-host.QueueDatagrams || st.UDP.InErrors != sent-host.QueueDatagrams {
		t.Fatalf("stats %+v drops %v", st.UDP, st.DropCounts())
	}
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 10)
	for i := 0; i < host.QueueDatagrams; i++ {
		k, _, err := srv.ReadFrom(buf)
		if err != nil || k != 2 || int(buf[0])|int(buf[1])<<8 != i {
			t.Fatalf("datagram %d: % x %v", i, buf[:k], err)
		}
	}
}

// SetReadBuffer bounds the queue in bytes (SO_RCVBUF).
func TestUDPReadBufferBoundsBytes(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	srv := listenUDP(t, n.server, "udp4", ":7")
	srv.SetReadBuffer(1000)
	c, _ := n.client.Dial("udp4", "192.0.2.2:7")
	defer c.Close()
	for i := 0; i < 5; i++ {
		c.Write(make([]byte, 400))
	}
	waitFor(t, 10*time.Second, "datagrams counted", func() bool {
		st := n.server.Stats().UDP
		return st.InDatagrams+st.RcvbufErrors == 5
	})
	if st := n.server.Stats().UDP; st.InDatagrams != 2 || st.RcvbufErrors != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUDPDeadlinesAndClose(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	c := listenUDP(t, n.server, "udp", ":7")
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, _, err := c.ReadFrom(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("read returned before its deadline")
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past deadline: %v", err)
	}
	c.SetDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrom(make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked read after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake a blocked read")
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	// The port is free again.
	c2 := listenUDP(t, n.server, "udp", ":7")
	c2.Close()
}

func TestUDPSocketErrors(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	listenUDP(t, n.server, "udp", ":7")
	cases := []struct {
		name string
		err  error
		want error
	}{}
	_, err := n.server.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 7})
	cases = append(cases, struct {
		name string
		err  error
		want error
	}{"bind over the dual-stack wildcard", err, syscall.EADDRINUSE})
	_, err = n.server.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 8})
	var ae *net.AddrError
	if !errors.As(err, &ae) {
		t.Errorf("listen on a foreign address: %v", err)
	}
	_, err = n.server.ListenUDP("tcp", &net.UDPAddr{Port: 8})
	if _, ok := errors.Unwrap(err).(net.UnknownNetworkError); !ok {
		t.Errorf("ListenUDP(tcp): %v", err)
	}
	conn, _ := n.client.Dial("udp", "192.0.2.2:7")
	_, err = conn.(*UDPConn).WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("192.0.2.2"), Port: 7})
	cases = append(cases, struct {
		name string
		err  error
		want error
	}{"WriteTo on a connected socket", err, net.ErrWriteToConnected})
	conn.Close()
	un := listenUDP(t, n.client, "udp", ":0")
	_, err = un.Write([]byte("x"))
	cases = append(cases, struct {
		name string
		err  error
		want error
	}{"Write on an unconnected socket", err, syscall.EDESTADDRREQ})
	_, err = un.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("192.0.2.2"), Port: 0})
	cases = append(cases, struct {
		name string
		err  error
		want error
	}{"WriteTo port 0", err, syscall.EINVAL})
	v4only := listenUDP(t, n.client, "udp4", "192.0.2.1:0")
	_, err = v4only.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("2001:db8::2"), Port: 7})
	cases = append(cases, struct {
		name string
		err  error
		want error
	}{"IPv6 destination from an IPv4 address", err, syscall.EAFNOSUPPORT})
	for _, c := range cases {
		var op *net.OpError
		if !errors.Is(c.err, c.want) || !errors.As(c.err, &op) {
			t.Errorf("%s: %v, want an OpError wrapping %v", c.name, c.err, c.want)
		}
	}
}
