package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// fastOpenState is a connection's part in TCP Fast Open (RFC 7413).
type fastOpenState struct {
	// Client (RFC 7413 §4.1.3 and §4.2.1).
	active     bool          // EnableFastOpen was called
	deferSyn   bool          // the SYN waits for the first write (Linux's TCP_FASTOPEN_CONNECT)
	deferUntil time.Duration // or until then
	cookieOnly bool          // WriteSyn sent the SYN: the cookie goes even with no data
	synData    uint32        // bytes of data our first SYN carried
	synCookie  bool          // our first SYN carried a cookie
	synRequest bool          // our first SYN asked for a cookie

	// Server (RFC 7413 §4.2.2).
	sendCookie bool      // our SYN-ACK hands out a fresh cookie
	exp        bool      // answer in the experimental encoding the client used
	early      bool      // accepted in SYN-RECEIVED, before the handshake completed
	pending    *Listener // counted in this listener's Fast Open queue until SYN-RECEIVED ends

	// Either end: the data in the SYN was acknowledged (Linux's
	// TCPI_OPT_SYN_DATA).
	synDataAcked bool
}

// EnableFastOpen makes an active open use TCP Fast Open (RFC 7413) the
// way Linux's TCP_FASTOPEN_CONNECT does. With a usable cookie cached for
// the server, the SYN waits for the first Write, whose data rides in it;
// without one, nothing could ride, so the SYN goes at once and asks for a
// cookie (RFC 7413 §4.1.1). Unlike Linux, where a SYN that waits waits
// for a write forever, it goes without data after
// Config.FastOpenConnectDelay, so a protocol in which the server speaks
// first is delayed, not hung. It reports false, changing nothing, once
// the SYN has gone out.
func (c *Conn) EnableFastOpen(now time.Duration) bool {
	if c.state != SynSent || c.sndMax != c.iss {
		return false
	}
	e := c.env.fastOpenCache.get(c.tuple.RemoteAddr)
	c.tfo = &fastOpenState{active: true, deferSyn: e != nil && e.hasCookie && e.usable(now)}
	c.tfo.deferUntil = now + c.env.Config.FastOpenConnectDelay
	return true
}

// SynDataAcked reports whether data carried in a SYN was acknowledged:
// ours by the server's SYN-ACK, or the client's by our SYN-ACK.
func (c *Conn) SynDataAcked() bool { return c.tfo.dataAcked() }

// synDeferred reports whether the SYN of a Fast Open connect still waits
// for data to carry at now.
func (c *Conn) synDeferred(now time.Duration) bool {
	return c.tfo != nil && c.tfo.deferSyn && c.snd.n == 0 && now < c.tfo.deferUntil
}

// fastOpenSyn adds the Fast Open option to our first SYN and returns the
// bytes of the send buffer it carries (RFC 7413 §4.2.1).
func (c *Conn) fastOpenSyn(now time.Duration, s *Segment) int {
	c.tfo.deferSyn = false
	env := c.env
	e := env.fastOpenCache.get(c.tuple.RemoteAddr)
	switch {
	case e != nil && e.hasCookie && !e.usable(now):
		// RFC 7413 §4.1.3.1: SYNs with data were lost on this path;
		// use a regular handshake for a while.
		env.Stats.FastOpenBlackhole++
		return 0
	case e == nil || !e.hasCookie:
		// RFC 7413 §4.1.1: no cookie yet, so ask for one. Data waits
		// for the handshake, as without Fast Open.
		s.Options.SetFastOpen(nil, e != nil && e.exp)
		c.tfo.synRequest = true
		env.Stats.FastOpenCookieReqSent++
		return 0
	}
	n := min(c.snd.n, c.synDataRoom(e))
	if n == 0 && !c.tfo.cookieOnly {
		// Nothing to carry (the wait ran out): a cookie alone would
		// gain nothing.
		return 0
	}
	e.usedAt = now
	s.Options.SetFastOpen(e.cookie[:e.cookieLen], e.exp)
	s.Payload = c.snd.peek(0, n)
	c.tfo.synCookie = true
	c.tfo.synData = uint32(len(s.Payload))
	env.Stats.FastOpenActive++
	return len(s.Payload)
}

// WriteSyn sends the SYN of a Fast Open connect that still waits for
// data, carrying as much of p as the SYN can, and returns how many bytes
// of p it took; the rest is not queued. The SYN carries the cached cookie
// even with no data. This is Linux's sendto(MSG_FASTOPEN), and a write on
// a TCP_FASTOPEN_CONNECT socket, whose data beyond what fits the SYN
// waits for the handshake in the caller (tcp_send_syn_data). ok is false,
// with nothing done, when no SYN waits.
func (c *Conn) WriteSyn(now time.Duration, p []byte) (n int, ok bool) {
	if c.state != SynSent || c.sndMax != c.iss || !c.synDeferred(now) {
		return 0, false
	}
	if e := c.env.fastOpenCache.get(c.tuple.RemoteAddr); e != nil && e.hasCookie && e.usable(now) {
		n = c.snd.write(p[:min(len(p), c.synDataRoom(e))], &c.env.sendPool)
	}
	c.tfo.cookieOnly = true
	c.tfo.deferUntil = now // the next Poll sends it
	return n, true
}

// synDataRoom is how many bytes a SYN with e's cookie can carry. Linux
// leaves room for the whole option space, so a middlebox that adds
// options cannot push the SYN past the MSS of the path.
func (c *Conn) synDataRoom(e *fastOpenEntry) int {
	mss := int(c.advMSS)
	if e.mss > 0 {
		mss = min(mss, int(e.mss))
	}
	return max(mss-wire.MaxOptionsLen, 0)
}

// fastOpenSynTimeout notes a lost SYN that carried data: the next
// transmission is a plain SYN (RFC 7413 §4.1.3.1: the path may drop SYNs
// with data), and the cache remembers the loss.
func (c *Conn) fastOpenSynTimeout(now time.Duration) {
	if c.tfo == nil || c.tfo.synData == 0 || c.retries != 1 {
		return
	}
	e := c.env.fastOpenCache.entry(now, c.tuple.RemoteAddr, c.env.Config.FastOpenCacheSize)
	e.synLoss = min(e.synLoss+1, 250)
	e.lossAt = now
	c.env.Stats.FastOpenActiveFail++
}

// fastOpenSynAck handles what a SYN-ACK tells a Fast Open client
// (RFC 7413 §4.1.3 and §4.2.1): a cookie and MSS to cache, and how much
// of the SYN's data the server took. Data not acknowledged is sent again
// at once, right after the SYN-ACK.
func (c *Conn) fastOpenSynAck(now time.Duration, seg *Segment) {
	if !c.tfo.isActive() {
		return
	}
	env := c.env
	e := env.fastOpenCache.entry(now, c.tuple.RemoteAddr, env.Config.FastOpenCacheSize)
	o := &seg.Options
	if o.HasMSS {
		e.mss = o.MSS
	}
	if o.HasFastOpen && o.FastOpenLen > 0 {
		// Kept even after a SYN timeout: the timeout may have been
		// spurious.
		e.cookieLen = uint8(copy(e.cookie[:], o.FastOpenCookieBytes()))
		e.hasCookie, e.exp = true, o.FastOpenExp
	}
	if c.tfo.synData == 0 {
		return
	}
	acked := int(c.bufSeq.Size(seg.Ack))
	if acked > 0 {
		d := min(acked, c.snd.n)
		c.snd.consume(d, &env.sendPool)
		c.bufSeq = c.bufSeq.Add(seqnum.Size(d))
		c.events |= EvWritable
		e.synLoss = 0
	}
	if acked >= int(c.tfo.synData) {
		c.tfo.synDataAcked = true
		return
	}
	if !c.synRetrans {
		env.Stats.FastOpenActiveFail++ // a lost SYN-data was counted at its timeout
	}
	// The rest goes again now, from SND.UNA (RFC 7413 §4.2.1 step 3).
	// The SYN-ACK still gives synAcked an RTT sample: the SYN itself was
	// not retransmitted (Karn's rule), as Linux samples it.
	c.sndNxt = seg.Ack
}

// tryFastOpen decides what a listener does with a SYN's Fast Open option
// (RFC 7413 §4.2.2) and reports whether the SYN's data is accepted now.
// A child that gets its data is acceptable before the handshake ends.
func (l *Listener) tryFastOpen(now time.Duration, t Tuple, seg *Segment, c *Conn) bool {
	if l.FastOpenQueue <= 0 {
		return false
	}
	env := l.env
	o := &seg.Options
	switch {
	case o.FastOpenBad:
		// RFC 7413 §4.1.1: an option of a bad length is ignored.
		env.Stats.FastOpenPassiveFail++
		if len(seg.Payload) > 0 {
			l.drop(t, seg, DropFastOpenBadCookie)
		}
		return false
	case !o.HasFastOpen:
		// Plain SYN data: handled as RFC 9293 says, after the handshake.
		return false
	case o.FastOpenLen == 0:
		env.Stats.FastOpenCookieReqd++
		c.tfo = &fastOpenState{sendCookie: true, exp: o.FastOpenExp}
		return false
	case !env.fastOpenCookieValid(now, t, o.FastOpenCookieBytes()):
		// Invalid or stale: a regular handshake that acknowledges only
		// the SYN, and a fresh cookie for next time.
		env.Stats.FastOpenPassiveFail++
		if len(seg.Payload) > 0 {
			l.drop(t, seg, DropFastOpenBadCookie)
		}
		c.tfo = &fastOpenState{sendCookie: true, exp: o.FastOpenExp}
		return false
	case l.fastOpenPending >= l.FastOpenQueue:
		// RFC 7413 §5.1: bound the requests that hold state before
		// the client is verified by a completed handshake.
		env.Stats.FastOpenListenOverflow++
		return false
	}
	c.tfo = &fastOpenState{early: true, pending: l}
	if !env.fastOpenCookieCurrent(now, t, o.FastOpenCookieBytes()) {
		// Valid under the previous key only: renew it now, before
		// that key expires (RFC 7413 §4.1.2; Linux's
		// TCPFastOpenPassiveAltKey).
		c.tfo.sendCookie, c.tfo.exp = true, o.FastOpenExp
	}
	env.Stats.FastOpenPassive++
	l.fastOpenPending++
	return true
}

// fastOpenAccept delivers the data a SYN with a valid cookie carried: the
// SYN-ACK acknowledges it and the user can read it at once.
func (c *Conn) fastOpenAccept() {
	if grow := c.rcv.advance(c.rcvNxt); grow > 0 {
		c.rcvNxt = c.rcvNxt.Add(seqnum.Size(grow))
		c.events |= EvReadable
		c.tfo.synDataAcked = true
	}
	c.events |= EvAcceptable
}

// fastOpenLeftSynReceived releases the child's place in its listener's
// Fast Open queue once it is established or gone.
func (c *Conn) fastOpenLeftSynReceived() {
	if c.tfo == nil {
		return
	}
	if l := c.tfo.pending; l != nil {
		l.fastOpenPending--
		c.tfo.pending = nil
	}
}

// The state is allocated only for connections that use Fast Open; these
// read it for all the others too.

func (f *fastOpenState) isEarly() bool   { return f != nil && f.early }
func (f *fastOpenState) isActive() bool  { return f != nil && f.active }
func (f *fastOpenState) dataAcked() bool { return f != nil && f.synDataAcked }

// deferDeadline is when a deferred SYN goes anyway, or never.
func (f *fastOpenState) deferDeadline() time.Duration {
	if f == nil || !f.deferSyn {
		return never
	}
	return f.deferUntil
}
