package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// sendCookie answers a SYN with a stateless SYN-ACK whose ISS is a cookie
// (RFC 4987 §3.6). Nothing is remembered; data on the SYN is dropped and
// the peer sends it again.
func (l *Listener) sendCookie(now time.Duration, t Tuple, seg *Segment, out *Output) {
	env := l.env
	cfg := &env.Config
	cookie, opts := env.makeCookie(now, t, seg)
	s := out.push(t)
	s.Seq = cookie
	s.Ack = seg.Seq.Add(1)
	s.Flags = flagSYN | flagACK
	s.Window = uint16(min(cfg.RecvBuffer, 65535)) // RFC 7323 §2.2: unscaled
	o := &s.Options
	o.HasMSS, o.MSS = true, mssForMTU(cfg.MTU, t.LocalAddr.Is4())
	if opts == cookieOptMask {
		// No timestamps to carry window scale and SACK: offer neither.
		env.Stats.SyncookiesNoTS++
	} else {
		o.HasTimestamps = true
		o.TSVal = cookieTSVal(uint32(now/time.Millisecond)+tsOffsetFor(env, t), opts)
		o.TSEcr = seg.Options.TSVal
		if opts&0xf != cookieNoWScale {
			o.HasWScale, o.WScale = true, windowShiftFor(cfg.RecvBuffer)
		}
		o.SACKPermitted = opts&cookieSACK != 0
	}
	env.Stats.SyncookiesSent++
	l.cookieAt, l.cookieSent = now, true
}

// cookieAck builds an ESTABLISHED child from an ACK that returns a valid
// cookie. handled reports that the ACK was a valid cookie (even if the
// accept queue had no room for it, when child is nil and no RST is due).
func (l *Listener) cookieAck(now time.Duration, t Tuple, seg *Segment, out *Output) (child *Conn, handled bool) {
	env := l.env
	recent := l.cookieSent && now-l.cookieAt <= 3*CookieTick
	if l.closed || env.Config.SynCookies == CookiesOff || env.Config.SynCookies != CookiesAlways && !recent {
		return nil, false
	}
	p, ok := env.checkCookie(now, t, seg)
	if !ok {
		env.Stats.SyncookiesFailed++
		l.drop(t, seg, DropBadCookie)
		return nil, false
	}
	if len(l.ready) >= l.acceptLimit() {
		env.Stats.ListenOverflows++
		env.Stats.ListenDrops++
		l.drop(t, seg, DropAcceptQueueFull)
		// Not a forgery: no RST; the peer retransmits.
		return nil, true
	}
	// The child the cookie's SYN would have made, its stateless
	// SYN-ACK taken as sent (RFC 4987 §3.6): this ACK completes it.
	syn := p.syn(seg)
	c := newFromSyn(env, now, t, seg.Ack-1, &syn)
	c.sndNxt, c.sndMax = seg.Ack, seg.Ack
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size(min(c.rcv.free(), 65535))) // the SYN-ACK's window
	c.lastAckSent = c.rcvNxt
	c.listener = l
	c.handshakeDone(now, seg)
	env.Stats.SyncookiesRecv++
	// The ACK may carry data and even a FIN (RFC 9293 §3.10.7.4), cut
	// to the window like any other segment's.
	seq, payload, fin := c.trim(seg, c.rcvWnd())
	c.acceptText(now, seg, seq, payload, fin, out)
	return c, true
}

// syn rebuilds the SYN a cookie stands for from the ACK that returned it:
// its sequence number and the options the cookie kept. Its window, stale
// and unscaled, is left zero: the ACK's own sets the send window.
func (p cookieParams) syn(ack *Segment) Segment {
	s := Segment{Seq: ack.Seq - 1, Flags: flagSYN}
	o := &s.Options
	o.HasMSS, o.MSS = true, p.mss
	if p.hasTS {
		o.HasTimestamps, o.TSVal = true, ack.Options.TSVal
	}
	if p.wscale >= 0 {
		o.HasWScale, o.WScale = true, uint8(p.wscale)
	}
	o.SACKPermitted = p.sack
	return s
}
