package host

import (
	"net/netip"
	"syscall"

	"github.com/threeway-tcp/threeway/wire"
)

// pingKey names an echo socket: its family and ICMP identifier.
type pingKey struct {
	v6 bool
	id uint16
}

// OpenPing opens an ICMP echo socket (like Linux's ping sockets) of one
// family, bound to local (unspecified: any address) and, if remote is
// valid, connected to it. Its identifier is random and free.
func (h *Host) OpenPing(v6 bool, local, remote netip.Addr) (*Socket, error) {
	if !local.IsUnspecified() && !h.IsLocal(local) {
		return nil, syscall.EADDRNOTAVAIL
	}
	if h.ping == nil {
		h.ping = make(map[pingKey]*Socket)
	}
	// A random free identifier, as Linux picks the socket's "port".
	key := pingKey{v6: v6}
	for i := 0; ; i++ {
		if i == 1<<16 {
			return nil, syscall.EADDRINUSE
		}
		key.id = uint16(h.rng.Uint32())
		if h.ping[key] == nil && key.id != 0 {
			break
		}
	}
	s := newSocket(netip.AddrPortFrom(local, 0), netip.AddrPortFrom(remote, 0))
	if !remote.IsValid() {
		s.remote = netip.AddrPort{}
	}
	s.ping = key
	h.ping[key] = s
	return s, nil
}

// Identifier is an echo socket's ICMP identifier.
func (s *Socket) Identifier() uint16 { return s.ping.id }

// pingInput queues an echo reply for the socket its identifier names.
// Replies for no socket are ignored, as RFC 792 leaves them.
func (h *Host) pingInput(src, dst netip.Addr, m wire.ICMP) {
	s := h.ping[pingKey{v6: !src.Is4(), id: uint16(m.RestOfHeader() >> 16)}]
	if s == nil || !s.local.Addr().IsUnspecified() && s.local.Addr() != dst || s.remote.IsValid() && s.remote.Addr() != src {
		return
	}
	if s.q.push(netip.AddrPortFrom(src, 0), m) {
		h.emit(Event{Kind: ReadableEvent, Socket: s})
	}
}

// SendEcho sends an echo request (RFC 792; RFC 4443 §4.1) for an echo
// socket: msg is the whole ICMP message, whose type the caller checked;
// the identifier is the socket's.
func (h *Host) SendEcho(s *Socket, dst netip.Addr, msg []byte) error {
	src := s.local.Addr()
	if src.IsUnspecified() {
		a, ok := h.SourceFor(dst)
		if !ok {
			return syscall.ENETUNREACH
		}
		src = a
	}
	seq := uint32(msg[6])<<8 | uint32(msg[7])
	h.sendICMP(src, dst, msg[0], 0, uint32(s.ping.id)<<16|seq, msg[wire.ICMPHeaderLen:])
	return nil
}
