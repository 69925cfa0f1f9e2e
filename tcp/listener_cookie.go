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
	iss := seg.Ack - 1
	c := newConnISS(env, t, iss)
	c.passive = true
	c.state = Listen
	c.irs = seg.Seq - 1
	c.rcvNxt = seg.Seq
	c.sndUna, c.sndNxt, c.sndMax = seg.Ack, seg.Ack, seg.Ack
	c.sndMSS = max(min(p.mss, c.advMSS), minSendMSS)
	if p.hasTS {
		c.tsOK = true
		c.tsRecent, c.tsRecentAt = seg.Options.TSVal, now
	}
	if p.wscale >= 0 {
		c.wsOK = true
		c.sndShift = uint8(min(p.wscale, maxWindowShift))
		c.rcvShift = c.offerShift
	}
	c.sackOK = p.sack
	c.cc.init(c)
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size(min(c.rcv.free(), 65535)))
	c.sndWnd = uint32(seg.Window) << c.sndShift
	c.maxSndWnd = c.sndWnd
	c.sndWl1, c.sndWl2 = seg.Seq, seg.Ack
	c.lastAckSent = c.rcvNxt
	env.Stats.PassiveOpens++
	env.Stats.SyncookiesRecv++
	c.setState(Established)
	c.events |= EvEstablished | EvWritable
	c.listener = l
	l.ready = append(l.ready, c)
	// The ACK may carry data and even a FIN (RFC 9293 §3.10.7.4), cut
	// to the window like any other segment's.
	seq, payload, fin := c.trim(seg, c.rcvWnd())
	c.acceptText(now, seg, seq, payload, fin, out)
	return c, true
}
