package host

import (
	"net/netip"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// transparent is what the host keeps for traffic that is not to its own
// addresses: forwarders, and the foreign local addresses of the
// connections forwarders and spoofing dials made.
type transparent struct {
	forwarders []*Forwarder
	// foreign counts live connections by local address, for addresses
	// the host does not own: their packets are accepted while any lives.
	foreign  map[netip.Addr]int
	spoofing bool
	expired  []*tcp.Request
}

// ForwarderConfig configures a Forwarder's echo handling.
type ForwarderConfig struct {
	Prefixes []netip.Prefix // masked, valid
	// Echo answers echo requests to covered addresses; EchoHandler hands
	// them out as EchoEvents instead, at most MaxEchoes at once.
	Echo, EchoHandler bool
	MaxEchoes         int
}

// Forwarder terminates TCP connections to destinations the host does not
// own: every SYN to a covered address and port with no listener becomes
// a RequestEvent.
type Forwarder struct {
	User   any
	cfg    ForwarderConfig
	core   *tcp.Forwarder
	echoes int
	open   bool
	Echo   EchoStats
}

// EchoStats count the echo requests a forwarder saw.
type EchoStats struct {
	Answered, Handed, Dropped uint64
}

// Echo is an echo request handed out for a forwarder's handler.
type Echo struct {
	Src, Dst netip.Addr
	Rest     uint32 // identifier and sequence number
	Data     []byte // the handler's to keep
}

// Forward starts a forwarder; its core's limits are set on Core().
func (h *Host) Forward(cfg ForwarderConfig) *Forwarder {
	f := &Forwarder{cfg: cfg, core: tcp.NewForwarder(h.env), open: true}
	h.transparent.forwarders = append(h.transparent.forwarders, f)
	return f
}

// Core is the core forwarder: its limits, counters and pending requests.
func (f *Forwarder) Core() *tcp.Forwarder { return f.core }

// EchoDone tells the forwarder a handed-out echo's handler returned.
func (f *Forwarder) EchoDone() { f.echoes-- }

// CloseForwarder stops forwarding: pending requests are rejected with a
// RST (RequestEnded events). Connections already completed carry on.
func (h *Host) CloseForwarder(now time.Duration, f *Forwarder) {
	h.closeForwarder(now, f)
	h.Flush(now)
}

func (h *Host) closeForwarder(now time.Duration, f *Forwarder) {
	if !f.open {
		return
	}
	f.open = false
	fs := h.transparent.forwarders
	for i, x := range fs {
		if x == f {
			h.transparent.forwarders = append(fs[:i:i], fs[i+1:]...)
			break
		}
	}
	for _, r := range f.core.Close(now, &h.out, nil) {
		h.emit(Event{Kind: RequestEnded, Forwarder: f, Request: r, Cause: EndForwarderClose})
	}
}

func (f *Forwarder) covers(a netip.Addr) int {
	best := -1
	for _, p := range f.cfg.Prefixes {
		if p.Contains(a) {
			best = max(best, p.Bits())
		}
	}
	return best
}

// forwarderFor returns the most specific forwarder covering a, or nil.
func (h *Host) forwarderFor(a netip.Addr) *Forwarder {
	var best *Forwarder
	bits := -1
	for _, f := range h.transparent.forwarders {
		if b := f.covers(a); b > bits {
			best, bits = f, b
		}
	}
	return best
}

// forwardInput offers a segment that matched no connection and no
// listener to the forwarder covering its destination. It reports whether
// one took it.
func (h *Host) forwardInput(now time.Duration, t tcp.Tuple, seg *tcp.Segment) bool {
	f := h.forwarderFor(t.LocalAddr)
	if f == nil {
		return false
	}
	r, reset := f.core.Input(now, t, seg, &h.out)
	switch {
	case r == nil:
	case reset:
		h.emit(Event{Kind: RequestEnded, Forwarder: f, Request: r, Cause: EndClientReset})
	default:
		e := Event{Kind: RequestEvent, Forwarder: f, Request: r}
		if r.Conn != nil {
			// A SYN cookie completed the handshake: the connection
			// exists now, so what the client sends is kept.
			e.Conn = h.file(r.Conn)
		}
		h.emit(e)
	}
	return true
}

// ForwardComplete finishes a request's handshake; the connection, filed
// under the original destination, is returned (the one a SYN cookie
// already made, if any: had).
func (h *Host) ForwardComplete(now time.Duration, f *Forwarder, r *tcp.Request, had *Conn) (*Conn, error) {
	tcb, err := f.core.Complete(now, r, &h.out)
	if err != nil {
		return nil, err
	}
	if had != nil {
		h.Touch(had)
		return had, nil
	}
	return h.file(tcb), nil
}

// ForwardReject answers a request with a RST, as a closed port would.
func (h *Host) ForwardReject(now time.Duration, f *Forwarder, r *tcp.Request, had *Conn) error {
	err := f.core.Reject(now, r, &h.out)
	if had != nil {
		h.Touch(had)
	}
	return err
}

// ForwardForget drops a request without an answer; with unreachable,
// the client gets an ICMP destination unreachable of that code instead.
func (h *Host) ForwardForget(now time.Duration, f *Forwarder, r *tcp.Request, had *Conn, unreachable bool, code uint8) error {
	if err := f.core.Forget(now, r, &h.out); err != nil {
		return err
	}
	if had != nil {
		h.Touch(had)
	} else if unreachable {
		h.unreachableSYN(r, code)
	}
	return nil
}

// refForeign counts c under its local address if the host does not own
// that address, so c's packets are accepted while it lives.
func (h *Host) refForeign(c *Conn) {
	a := c.tcb.Tuple().LocalAddr
	if h.IsLocal(a) {
		return
	}
	if h.transparent.foreign == nil {
		h.transparent.foreign = make(map[netip.Addr]int)
	}
	h.transparent.foreign[a]++
	c.foreign = true
}

// unrefForeign undoes refForeign when c is retired.
func (h *Host) unrefForeign(c *Conn) {
	if !c.foreign {
		return
	}
	c.foreign = false
	a := c.tcb.Tuple().LocalAddr
	if n := h.transparent.foreign[a] - 1; n > 0 {
		h.transparent.foreign[a] = n
	} else {
		delete(h.transparent.foreign, a)
	}
}

// forwardDeadline is the earliest decision deadline of any forwarder.
func (h *Host) forwardDeadline() time.Duration {
	at := tcp.Never
	for _, f := range h.transparent.forwarders {
		at = min(at, f.core.Deadline())
	}
	return at
}

// expireForwards rejects requests whose decision deadline passed.
func (h *Host) expireForwards(now time.Duration) {
	for _, f := range h.transparent.forwarders {
		if f.core.Deadline() > now {
			continue
		}
		h.transparent.expired = f.core.Expire(now, &h.out, h.transparent.expired[:0])
		for _, r := range h.transparent.expired {
			if r.Conn != nil {
				if c := h.conns[r.Tuple]; c != nil {
					h.Touch(c)
				}
			}
			h.emit(Event{Kind: RequestEnded, Forwarder: f, Request: r, Cause: EndTimeout})
		}
		clear(h.transparent.expired)
	}
}

// forwardEcho handles an echo request to an address the host does not
// own, for the forwarder covering it: answered, handed out or dropped.
func (h *Host) forwardEcho(src, dst netip.Addr, rest uint32, body []byte) {
	f := h.forwarderFor(dst)
	if f == nil {
		return
	}
	switch {
	case f.cfg.EchoHandler:
		if f.echoes >= f.cfg.MaxEchoes {
			f.Echo.Dropped++
			return
		}
		f.echoes++
		f.Echo.Handed++
		e := &Echo{Src: src, Dst: dst, Rest: rest, Data: append([]byte(nil), body...)}
		h.emit(Event{Kind: EchoEvent, Forwarder: f, Echo: e})
	case f.cfg.Echo:
		f.Echo.Answered++
		h.EchoReply(src, dst, rest, body)
	default:
		f.Echo.Dropped++
	}
}

// EchoReply sends an echo reply from dst to src, as dst would (RFC 792;
// RFC 4443 §4.2).
func (h *Host) EchoReply(src, dst netip.Addr, rest uint32, data []byte) {
	typ := uint8(wire.ICMPv4EchoReply)
	if !dst.Is4() {
		typ = wire.ICMPv6EchoReply
	}
	h.sendICMP(dst, src, typ, 0, rest, data)
}

// unreachableSYN sends the ICMP error for a forwarded SYN: its body is
// the SYN's IP header and TCP header as the client sent them, which the
// client matches to its connection (RFC 792; RFC 4443 §3.1; RFC 5927 §4.1
// wants the sequence number in it to be one the client sent).
func (h *Host) unreachableSYN(r *tcp.Request, code uint8) {
	t := r.Tuple
	var tcpHdr [wire.TCPHeaderLen]byte
	f := wire.TCPFields{
		SrcPort: t.RemotePort, DstPort: t.LocalPort, Seq: uint32(r.SYN.Seq),
		Flags: r.SYN.Flags, Window: r.SYN.Window,
	}
	if wire.EncodeTCP(tcpHdr[:], &f, &wire.Options{}, nil) == 0 {
		return
	}
	wire.TCP(tcpHdr[:]).SetChecksum(wire.TCPChecksum(t.RemoteAddr, t.LocalAddr, tcpHdr[:]))
	var pkt [wire.IPv6HeaderLen + wire.TCPHeaderLen]byte
	h.stats.ICMP.OutErrors++
	if t.LocalAddr.Is4() {
		wire.EncodeIPv4(pkt[:], &wire.IPv4Fields{Src: t.RemoteAddr, Dst: t.LocalAddr, Protocol: wire.ProtoTCP, TTL: 64, DontFragment: true, PayloadLen: len(tcpHdr)})
		copy(pkt[wire.IPv4HeaderLen:], tcpHdr[:])
		h.sendICMP(t.LocalAddr, t.RemoteAddr, wire.ICMPv4DestUnreach, code, 0, pkt[:wire.IPv4HeaderLen+len(tcpHdr)])
		return
	}
	wire.EncodeIPv6(pkt[:], &wire.IPv6Fields{Src: t.RemoteAddr, Dst: t.LocalAddr, NextHeader: wire.ProtoTCP, HopLimit: 64, PayloadLen: len(tcpHdr)})
	copy(pkt[wire.IPv6HeaderLen:], tcpHdr[:])
	h.sendICMP(t.LocalAddr, t.RemoteAddr, wire.ICMPv6DestUnreach, code, 0, pkt[:])
}
