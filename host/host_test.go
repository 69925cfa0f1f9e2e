package host

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// RFC 9293 §3.10.7.1: a SYN to a port nobody listens on is answered with
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, counted as a drop.
func TestSYNToClosedPortGetsRST(t *testing.T) {
	h := newTestHost(t)
	input(h, 0, seg{sport: 40000, dport: 81, seq: 5000, flags: wire.FlagSYN}.packet())
	rst := one(t, h)
	if rst.tcp.Flags() != wire.FlagRST|wire.FlagACK || rst.tcp.Seq() != 0 || rst.tcp.Ack() != 5001 {
		t.Fatalf("answer %v seq %d ack %d", rst.tcp.Flags(), rst.tcp.Seq(), rst.tcp.Ack())
	}
	if rst.ip.Src() != local4 || rst.ip.Dst() != peer4 || rst.tcp.SrcPort() != 81 || rst.tcp.DstPort() != 40000 {
		t.Fatalf("RST addressed %v:%d -> %v:%d", rst.ip.Src(), rst.tcp.SrcPort(), rst.ip.Dst(), rst.tcp.DstPort())
	}
	st := h.Env().Stats
	if st.Drops[tcp.DropNoConnection] != 1 || st.OutRsts != 1 {
		t.Fatalf("drops %d, RSTs out %d", st.Drops[tcp.DropNoConnection], st.OutRsts)
	}
}

// RFC 9293 §3.10.7.1: a RST to a closed port is dropped, not answered.
func TestRSTToClosedPortIsNotAnswered(t *testing.T) {
	h := newTestHost(t)
	input(h, 0, seg{sport: 40000, dport: 81, seq: 5000, flags: wire.FlagRST}.packet())
	if got := output(t, h); len(got) != 0 {
		t.Fatalf("answered a RST with %d packets", len(got))
	}
}

// RFC 9293 §3.10.7.2: a SYN to a listener gets a SYN-ACK; the ACK of it
// makes a connection the listener hands out.
func TestSYNToListenerGetsSYNACKAndAccept(t *testing.T) {
	h := newTestHost(t)
	l, err := h.Listen(netip.Addr{}, 80)
	if err != nil {
		t.Fatal(err)
	}
	input(h, 0, seg{sport: 40000, dport: 80, seq: 1000, flags: wire.FlagSYN}.packet())
	synack := one(t, h)
	if synack.tcp.Flags() != wire.FlagSYN|wire.FlagACK || synack.tcp.Ack() != 1001 {
		t.Fatalf("answer %v ack %d", synack.tcp.Flags(), synack.tcp.Ack())
	}
	if !has(eventsOf(h), NewConnEvent) {
		t.Fatal("no NewConnEvent for the half-open connection")
	}
	if c, _ := h.Accept(l); c != nil {
		t.Fatal("accepted before the handshake completed")
	}
	if h.Deadline() == tcp.Never {
		t.Fatal("no SYN-ACK retransmission timer")
	}
	input(h, time.Millisecond, seg{sport: 40000, dport: 80, seq: 1001, ack: synack.tcp.Seq() + 1, flags: wire.FlagACK}.packet())
	if !has(eventsOf(h), AcceptEvent) {
		t.Fatal("no AcceptEvent after the handshake")
	}
	c, more := h.Accept(l)
	if c == nil || more || c.TCB().State() != tcp.Established {
		t.Fatalf("accept: %v more %v", c, more)
	}
	if h.Env().Stats.PassiveOpens != 1 {
		t.Fatalf("PassiveOpens %d", h.Env().Stats.PassiveOpens)
	}
}

// Timers live in the host: with nothing due, Advance sends nothing; at
// the deadline a SYN-ACK is retransmitted (RFC 6298 §5).
func TestAdvanceRetransmitsAtDeadline(t *testing.T) {
	h := newTestHost(t)
	if _, err := h.Listen(netip.Addr{}, 80); err != nil {
		t.Fatal(err)
	}
	input(h, 0, seg{sport: 40000, dport: 80, seq: 1000, flags: wire.FlagSYN}.packet())
	first := one(t, h)
	at := h.Deadline()
	h.Advance(at - 1)
	if got := output(t, h); len(got) != 0 {
		t.Fatalf("sent %d packets before the deadline", len(got))
	}
	h.Advance(at)
	again := one(t, h)
	if again.tcp.Flags() != wire.FlagSYN|wire.FlagACK || again.tcp.Seq() != first.tcp.Seq() {
		t.Fatalf("retransmission %v seq %d, first seq %d", again.tcp.Flags(), again.tcp.Seq(), first.tcp.Seq())
	}
}

// RFC 9293 §3.10.7.4 (and RFC 1122 §4.2.2.13): a SYN whose sequence number
// is above the old incarnation's ends TIME-WAIT and makes a new
// connection on the same tuple, through the listener.
func TestTimeWaitReopenedByHigherSYN(t *testing.T) {
	h := newTestHost(t)
	c, iss := established(t, h)
	// The host closes first: FIN; the peer ACKs it and sends its own.
	h.CloseConn(2*time.Millisecond, c)
	h.Flush(2 * time.Millisecond)
	fin := one(t, h)
	if !fin.tcp.Flags().Has(wire.FlagFIN) {
		t.Fatalf("no FIN: %v", fin.tcp.Flags())
	}
	input(h, 3*time.Millisecond, seg{sport: 40000, dport: 80, seq: 1001, ack: iss + 2, flags: wire.FlagACK | wire.FlagFIN}.packet())
	output(t, h)
	if st := c.TCB().State(); st != tcp.TimeWait {
		t.Fatalf("state %v, want TIME-WAIT", st)
	}
	h.Events()
	input(h, 4*time.Millisecond, seg{sport: 40000, dport: 80, seq: 900000, flags: wire.FlagSYN}.packet())
	synack := one(t, h)
	if synack.tcp.Flags() != wire.FlagSYN|wire.FlagACK || synack.tcp.Ack() != 900001 {
		t.Fatalf("answer %v ack %d", synack.tcp.Flags(), synack.tcp.Ack())
	}
	var retired, made bool
	for _, e := range h.Events() {
		retired = retired || e.Kind == ConnEvent && e.Conn == c && e.Retired
		made = made || e.Kind == NewConnEvent && e.Conn != c
	}
	if !retired || !made {
		t.Fatalf("old retired %v, new made %v", retired, made)
	}
	if h.Env().Stats.TimeWaitReopen != 1 {
		t.Fatalf("TimeWaitReopen %d", h.Env().Stats.TimeWaitReopen)
	}
	if len(h.Conns()) != 1 {
		t.Fatalf("%d connections in the table", len(h.Conns()))
	}
}

// A SYN in TIME-WAIT with no listener to take it does not reopen: it gets
// TIME-WAIT's ACK.
func TestTimeWaitNotReopenedWithoutListener(t *testing.T) {
	h := newTestHost(t)
	c, iss := established(t, h)
	h.CloseListener(2*time.Millisecond, h.listeners[Key{netip.Addr{}, 80}])
	output(t, h)
	h.CloseConn(2*time.Millisecond, c)
	h.Flush(2 * time.Millisecond)
	output(t, h)
	input(h, 3*time.Millisecond, seg{sport: 40000, dport: 80, seq: 1001, ack: iss + 2, flags: wire.FlagACK | wire.FlagFIN}.packet())
	output(t, h)
	input(h, 4*time.Millisecond, seg{sport: 40000, dport: 80, seq: 900000, flags: wire.FlagSYN}.packet())
	ack := one(t, h)
	if ack.tcp.Flags() != wire.FlagACK || c.TCB().State() != tcp.TimeWait {
		t.Fatalf("answer %v, state %v", ack.tcp.Flags(), c.TCB().State())
	}
}
