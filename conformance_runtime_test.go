package threeway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// Runtime duties from RFC 9293's requirement list (docs/CONFORMANCE.md).

// peerSYN is a SYN from the raw peer's address to port on the stack.
func peerSYN(p *rawPeer, sport, dport uint16, o *wire.Options) []byte {
	return tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: sport, DstPort: dport, Seq: 1000, Flags: wire.FlagSYN, Window: 8192}, o, nil)
}

// §3.10.7.1: a segment for no connection is answered with a reset.
func TestNoConnectionGetsReset(t *testing.T) {
	p := newRawPeer(t)
	p.send(peerSYN(p, 5000, 81, nil))
	rst := tcpOf(t, p.next())
	if rst.Flags() != wire.FlagRST|wire.FlagACK || rst.Seq() != 0 || rst.Ack() != 1001 {
		t.Fatalf("SYN to a closed port: %v seq %d ack %d, want R. seq 0 ack 1001", rst.Flags(), rst.Seq(), rst.Ack())
	}
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 5000, DstPort: 81, Seq: 7, Ack: 4242, Flags: wire.FlagACK, Window: 1}, nil, []byte("x")))
	rst = tcpOf(t, p.next())
	if rst.Flags() != wire.FlagRST || rst.Seq() != 4242 {
		t.Fatalf("ACK to a closed port: %v seq %d, want R seq 4242", rst.Flags(), rst.Seq())
	}
	// A RST is never answered.
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 5000, DstPort: 81, Seq: 7, Flags: wire.FlagRST}, nil, nil))
	p.send(icmpPacket(p.addr, serverAddr.Addr(), wire.ICMPv4EchoRequest, 0, 1, nil)) // a marker
	if m := p.next(); wire.IPVersion(m) != 4 || m[9] != wire.ProtoICMP {
		t.Fatalf("a RST was answered")
	}
	if p.stack.Stats().Drops[tcp.DropNoConnection] != 3 {
		t.Fatalf("NoConnection drops: %d", p.stack.Stats().Drops[tcp.DropNoConnection])
	}
}

// MUST-7: an illegal option length is survived: the segment is dropped as
// malformed and counted, nothing is sent.
func TestIllegalOptionLengthIsDropped(t *testing.T) {
	p := newRawPeer(t)
	p.stack.Listen("tcp", ":80")
	seg := make([]byte, 24)
	wire.EncodeTCP(seg, &wire.TCPFields{SrcPort: 5000, DstPort: 80, Seq: 1, Flags: wire.FlagSYN, Window: 100}, nil, nil)
	seg[12] = 6 << 4                   // data offset 6: four option bytes
	copy(seg[20:], []byte{2, 1, 0, 0}) // MSS with length 1
	wire.TCP(seg).SetChecksum(wire.TCPChecksum(p.addr, serverAddr.Addr(), seg))
	p.send(ipPacket(p.addr, serverAddr.Addr(), wire.ProtoTCP, seg))
	p.send(icmpPacket(p.addr, serverAddr.Addr(), wire.ICMPv4EchoRequest, 0, 1, nil))
	if m := p.next(); m[9] != wire.ProtoICMP {
		t.Fatalf("the malformed SYN was answered")
	}
	if d := p.stack.Stats().Drops[tcp.DropMalformed]; d != 1 {
		t.Fatalf("malformed drops %d", d)
	}
}

// MUST-3: a segment with a bad checksum is dropped and counted.
func TestBadChecksumIsDropped(t *testing.T) {
	p := newRawPeer(t)
	p.stack.Listen("tcp", ":80")
	syn := peerSYN(p, 5000, 80, nil)
	syn[len(syn)-1] ^= 0x40 // the urgent pointer: covered by the checksum only
	p.send(syn)
	p.send(icmpPacket(p.addr, serverAddr.Addr(), wire.ICMPv4EchoRequest, 0, 1, nil))
	if m := p.next(); m[9] != wire.ProtoICMP {
		t.Fatalf("a SYN with a bad checksum was answered")
	}
	st := p.stack.Stats()
	if st.Drops[tcp.DropBadChecksum] != 1 || st.InErrs != 1 {
		t.Fatalf("BadChecksum drops %d, InErrs %d", st.Drops[tcp.DropBadChecksum], st.InErrs)
	}
}

// MUST-50: IP options TCP does not understand are ignored.
func TestIPOptionsAreIgnored(t *testing.T) {
	p := newRawPeer(t)
	p.stack.Listen("tcp", ":80")
	plain := peerSYN(p, 5000, 80, &wire.Options{HasMSS: true, MSS: 1400})
	// Rebuild it with a 4-byte IP option (NOP, NOP, NOP, EOL).
	tcpSeg := plain[wire.IPv4HeaderLen:]
	hdr := make([]byte, 24)
	wire.EncodeIPv4(hdr, &wire.IPv4Fields{Src: p.addr, Dst: serverAddr.Addr(), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: len(tcpSeg) + 4})
	hdr[0] = 0x46
	copy(hdr[20:], []byte{1, 1, 1, 0})
	hdr[10], hdr[11] = 0, 0
	sum := wire.Fold(wire.Sum(hdr, 0))
	hdr[10], hdr[11] = byte(sum>>8), byte(sum)
	pkt := append(hdr, tcpSeg...)
	p.send(pkt)
	sa := tcpOf(t, p.next())
	if sa.Flags() != wire.FlagSYN|wire.FlagACK || sa.Ack() != 1001 {
		t.Fatalf("SYN with IP options: got %v ack %d", sa.Flags(), sa.Ack())
	}
}

// MUST-55 (Source Quench discarded) and MUST-56 (Time Exceeded and
// Parameter Problem never abort).
func TestICMPThatMustNotAbort(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ, code uint8
	}{
		{"source quench", wire.ICMPv4SourceQuench, 0},
		{"time exceeded", wire.ICMPv4TimeExceeded, 0},
		{"parameter problem", wire.ICMPv4ParamProblem, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRawPeer(t)
			syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
			p.send(icmpPacket(p.addr, serverAddr.Addr(), tc.typ, tc.code, 0, syn[:28]))
			h := tcpOf(t, syn)
			p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{
				SrcPort: 80, DstPort: h.SrcPort(), Seq: 5000, Ack: h.Seq() + 1,
				Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
			}, nil, nil))
			if err := <-done; err != nil {
				t.Fatalf("dial after %s: %v", tc.name, err)
			}
		})
	}
}

// MUST-43: a listener may name its local address; other addresses on the
// same port are not its. MUST-41: a passive open leaves other connections
// alone.
func TestListenOnOneAddress(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, err := n.server.Listen("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	c1, err := n.client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if _, err := n.client.Dial("tcp", "[2001:db8::2]:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to the other address: %v, want connection refused", err)
	}
	c2, err := n.client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for _, c := range []net.Conn{c1, c2} {
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo on %v: %q %v", c.LocalAddr(), buf, err)
		}
	}
}

// MUST-44/45: the source address of an active open is the stack's address
// on the destination's prefix, of its family.
func TestDialChoosesSourceAddress(t *testing.T) {
	n := newTestNet(t, netConfig{})
	n.server.Listen("tcp", ":80")
	for _, tc := range []struct{ dst, src string }{{"192.0.2.2:80", "192.0.2.1"}, {"[2001:db8::2]:80", "2001:db8::1"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := n.client.DialContext(ctx, "tcp", tc.dst)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := c.LocalAddr().(*net.TCPAddr).AddrPort().Addr(); got != netip.MustParseAddr(tc.src) {
			t.Errorf("dial %s from %v, want %s", tc.dst, got, tc.src)
		}
		c.Close()
	}
}

// MUST-46: an OPEN to a broadcast, multicast or unspecified address fails.
func TestDialToInvalidAddressFails(t *testing.T) {
	n := newTestNet(t, netConfig{})
	for _, dst := range []string{"224.0.0.1:80", "0.0.0.0:80", "[ff02::1]:80", "[::]:80", "192.0.2.2:0"} {
		if c, err := n.client.Dial("tcp", dst); err == nil {
			c.Close()
			t.Errorf("dial %s succeeded", dst)
		}
	}
}

// MAY-2: a new SYN for a connection in TIME-WAIT, with a higher sequence
// number, opens a new incarnation through the listener.
func TestTimeWaitReopenThroughListener(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, _ := n.server.Listen("tcp", ":80")
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	fixed := &Dialer{Stack: n.client, LocalAddr: netip.MustParseAddrPort("192.0.2.1:40000")}
	nc, err := fixed.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	sc := <-accepted
	sc.Close() // the server closes first and ends in TIME-WAIT
	io.ReadAll(c)
	c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for sc.(*Conn).State() != tcp.TimeWait {
		if time.Now().After(deadline) {
			t.Fatalf("server side in %v, want TIME-WAIT", sc.(*Conn).State())
		}
		time.Sleep(time.Millisecond)
	}
	for c.State() != tcp.Closed {
		if time.Now().After(deadline) {
			t.Fatalf("client side in %v", c.State())
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * time.Millisecond) // the ISN clock moves on (RFC 6528)
	c2, err := fixed.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatalf("reopening from the same port: %v", err)
	}
	defer c2.Close()
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("the listener did not accept the new incarnation")
	}
	if n.server.Stats().TimeWaitReopen != 1 {
		t.Fatalf("TimeWaitReopen %d", n.server.Stats().TimeWaitReopen)
	}
}

// A SYN to a TIME-WAIT connection with no listener on its port keeps
// TIME-WAIT (it is answered with an ACK) instead of ending it and sending
// a reset.
func TestTimeWaitKeptWithoutListener(t *testing.T) {
	p := newRawPeer(t)
	syn, done := dialAndCatchSyn(t, p, context.Background(), "192.0.2.1:80")
	h := tcpOf(t, syn)
	port, iss := h.SrcPort(), h.Seq()
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 5000, Ack: iss + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535}, nil, nil))
	if err := <-done; err != nil { // the helper closes the conn: a FIN follows
		t.Fatal(err)
	}
	p.next() // ACK of the SYN-ACK
	fin := tcpOf(t, p.next())
	if !fin.Flags().Has(wire.FlagFIN) {
		t.Fatalf("want FIN, got %v", fin.Flags())
	}
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 5001, Ack: iss + 2,
		Flags: wire.FlagFIN | wire.FlagACK, Window: 65535}, nil, nil))
	p.next() // ACK of our FIN: the stack is in TIME-WAIT
	p.send(tcpPacket(p.addr, serverAddr.Addr(), wire.TCPFields{SrcPort: 80, DstPort: port, Seq: 900000,
		Flags: wire.FlagSYN, Window: 65535}, nil, nil))
	ack := tcpOf(t, p.next())
	if ack.Flags() != wire.FlagACK || ack.Ack() != 5002 {
		t.Fatalf("SYN in TIME-WAIT without a listener answered with %v ack %d, want . ack 5002", ack.Flags(), ack.Ack())
	}
	if st := p.stack.Stats(); st.TimeWaitReopen != 0 || st.OutRsts != 0 {
		t.Fatalf("TIME-WAIT reopened (%d) or reset (%d)", st.TimeWaitReopen, st.OutRsts)
	}
	p.stack.mu.Lock()
	defer p.stack.mu.Unlock()
	for _, hc := range p.stack.host.Conns() {
		if c := hc.User.(*Conn); c.tcb.State() != tcp.TimeWait {
			t.Fatalf("connection in %v", c.tcb.State())
		}
	}
}
