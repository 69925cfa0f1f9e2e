package threeway

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// An ACK storm between two threeway stacks, tried blind: the server
// closed first and sits in TIME-WAIT, its last ACK lost, so the client is
// in LAST-ACK. An off-path attacker spoofs a SYN from the client with a
// newer timestamp, which reopens TIME-WAIT (RFC 6191) and makes a
// SYN-RECEIVED child that sends a SYN-ACK to the client. Before, each end
// answered the other's out-of-window segments forever (thousands of
// packets a second). Now the client's challenge ACK (RFC 5961 §4.2)
// meets the child's RST for an unacceptable ACK (RFC 9293 §3.5.2), whose
// sequence number is the client's RCV.NXT: the client's half-open LAST-ACK
// ends, the child's next SYN-ACK draws a RST from the client's stack, and
// the exchange is over in a handful of packets.
func TestBlindSynToTimeWaitNoAckStorm(t *testing.T) {
	for _, fam := range []struct{ name, client, server string }{
		{"IPv4", "192.0.2.1:40000", "192.0.2.2:80"},
		{"IPv6", "[2001:db8::1]:40000", "[2001:db8::2]:80"},
	} {
		t.Run(fam.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testBlindSynToTimeWait(t, fam.client, fam.server) })
		})
	}
}

// testBlindSynToTimeWait is one family's TestBlindSynToTimeWaitNoAckStorm,
// in a bubble.
func testBlindSynToTimeWait(t *testing.T, client, server string) {
	var armed, counting atomic.Bool
	var ackDropped atomic.Int32
	var mu sync.Mutex
	var after []segInfo // every packet either way once the attack starts
	watch := func(fromServer bool) func([]byte) bool {
		return func(pkt []byte) bool {
			s, ok := parseSeg(pkt)
			if counting.Load() && ok {
				mu.Lock()
				after = append(after, s)
				mu.Unlock()
			}
			// The server's ACK of the client's FIN is lost.
			if fromServer && ok && armed.Load() && isPureACK(s) && ackDropped.Add(1) == 1 {
				return true
			}
			return false
		}
	}
	log := &tsvalLog{stateLog: newStateLog()}
	n := newTestNet(t, netConfig{clientTrace: log,
		pipe: link.PipeConfig{AtoB: link.Impairments{Drop: watch(false)}, BtoA: link.Impairments{Drop: watch(true)}}})
	l := listen(t, n.server, server)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	d := &Dialer{Stack: n.client, LocalAddr: netip.MustParseAddrPort(client)}
	nc, err := d.Dial("tcp", server)
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	sc := (<-accepted).(*Conn)
	sc.Close() // the server closes first: it will hold TIME-WAIT
	io.ReadAll(c)
	armed.Store(true)
	c.Close()
	log.stateLog.wait(t, c, tcp.LastAck)
	waitFor(t, 10*time.Second, "server TIME-WAIT", func() bool { return sc.State() == tcp.TimeWait })
	if ackDropped.Load() == 0 {
		t.Fatal("the server's last ACK went through")
	}

	// The blind SYN: from the client's address and port, with a
	// timestamp newer than any the client sent (a blind attacker
	// has an even chance with a random one).
	src, dst := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
	start := n.now()
	counting.Store(true)
	opts := wire.Options{HasTimestamps: true, TSVal: log.tsval.Load() + 1<<20}
	syn := tcpPacket(src.Addr(), dst.Addr(), wire.TCPFields{SrcPort: src.Port(), DstPort: dst.Port(), Seq: 0x1234_5678, Flags: wire.FlagSYN, Window: 65535}, &opts, nil)
	if err := n.a.WritePackets([][]byte{syn}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); c.State() != tcp.Closed || n.server.numConns() != 0 || n.client.numConns() != 0; {
		if time.Now().After(deadline) {
			mu.Lock()
			total := len(after)
			mu.Unlock()
			t.Fatalf("after %v (simulated) and %d packets, the client is in %v, the server holds %d connections",
				n.now().Sub(start), total, c.State(), n.server.numConns())
		}
		time.Sleep(time.Millisecond)
	}
	took := n.now().Sub(start)
	// Ten more simulated seconds: nothing more goes either way.
	time.Sleep(10 * time.Second)
	mu.Lock()
	total := len(after)
	mu.Unlock()
	if st := n.server.Stats(); st.TimeWaitReopen != 1 {
		t.Fatalf("TimeWaitReopen %d: the SYN did not reopen TIME-WAIT (%d packets; drops %v)", st.TimeWaitReopen, total, st.DropCounts())
	}
	if total > 8 {
		t.Fatalf("%d packets after the blind SYN: an ACK storm", total)
	}
	t.Logf("%d packets after the blind SYN (it included); both ends clear after %v", total, took)
}

// tsvalLog is a stateLog that also keeps the last TSval its stack sent.
type tsvalLog struct {
	*stateLog
	tsval atomic.Uint32
}

func (l *tsvalLog) Segment(dir Direction, _ tcp.Tuple, seg *tcp.Segment) {
	if dir == Outbound && seg.Options.HasTimestamps {
		l.tsval.Store(seg.Options.TSVal)
	}
}
