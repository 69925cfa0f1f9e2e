package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// The three-way handshake (RFC 9293 §3.5): active open, the SYN and
// SYN-ACK we send, what the peer's SYN negotiates, SYN-SENT input, and
// the ACK that completes SYN-RECEIVED. newFromSyn is the one constructor
// of a connection from a peer's SYN.

// NewActive starts an active open (RFC 9293 §3.10.1): a connection in
// SYN-SENT whose SYN goes out on the first Poll.
func NewActive(env *Env, t Tuple, now time.Duration) *Conn {
	c := newConn(env, t, now)
	env.Stats.ActiveOpens++
	c.setState(SynSent)
	return c
}

func newConn(env *Env, t Tuple, now time.Duration) *Conn {
	return newConnISS(env, t, env.ISN.ISN(now, t))
}

// newConnISS makes a CLOSED connection with a chosen ISS (a SYN cookie's).
func newConnISS(env *Env, t Tuple, iss seqnum.Value) *Conn {
	cfg := &env.Config
	c := env.newTCB(iss)
	c.env, c.tuple, c.noDelay = env, t, true
	c.iss = iss
	c.sndUna, c.sndNxt, c.sndMax = c.iss, c.iss, c.iss
	c.bufSeq = c.iss.Add(1)
	c.snd.limit = cfg.SendBuffer
	c.rcv.limit = cfg.RecvBuffer
	c.rto = cfg.InitialRTO
	c.rtoAt, c.persistAt, c.closeAt = never, never, never
	c.delack.at = never
	c.advMSS = mssForMTU(cfg.MTU, t.LocalAddr.Is4())
	c.sndMSS = defaultSendMSS(t.LocalAddr.Is4())
	c.offerShift = windowShiftFor(cfg.RecvBuffer)
	c.tsOffset = tsOffsetFor(env, t)
	c.cc.init(c)
	c.rcv.latest = -1
	return c
}

// tsOffsetFor is the random offset added to our timestamp clock towards
// one remote host (RFC 7323 §5.4): the clock is not revealed, yet TSval
// keeps increasing across successive connections between the two hosts,
// which RFC 6191's TIME-WAIT reopen check relies on (as Linux does).
func tsOffsetFor(env *Env, t Tuple) uint32 {
	var b [33]byte
	la, ra := t.LocalAddr.As16(), t.RemoteAddr.As16()
	copy(b[:16], la[:])
	copy(b[16:32], ra[:])
	b[32] = 't'
	return uint32(env.ISN.Hash(b[:]))
}

// newFromSyn is the one constructor of a connection from a peer's SYN
// (RFC 9293 §3.10.7.2, LISTEN, third check), with ISS iss: a listener's
// child (a Fast Open one too, and the new incarnation a TIME-WAIT
// connection hands to its listener on EvReopen), a forwarder's, and the
// child a returning SYN cookie stands for (cookieAck, with the SYN rebuilt
// from the cookie). It is in SYN-RECEIVED, before the SYN's text is
// queued and the SYN-ACK built.
func newFromSyn(env *Env, now time.Duration, t Tuple, iss seqnum.Value, seg *Segment) *Conn {
	c := newConnISS(env, t, iss)
	c.passive = true
	c.state = Listen
	env.Stats.PassiveOpens++
	c.synchronize(now, seg)
	c.rcvAdv = c.rcvNxt // sendSyn moves the window's right edge from here
	c.setState(SynReceived)
	return c
}

// synchronize takes the peer's SYN (RFC 9293 §3.10.7.2 and §3.10.7.3,
// fourth check): IRS and RCV.NXT from its sequence number, what its
// options negotiate, and the send window, which in a SYN is never scaled
// (RFC 7323 §2.2).
func (c *Conn) synchronize(now time.Duration, seg *Segment) {
	c.irs = seg.Seq
	c.rcvNxt = seg.Seq.Add(1)
	c.negotiate(seg, now)
	c.sndWnd = uint32(seg.Window)
	c.maxSndWnd = c.sndWnd
	c.sndWl1 = seg.Seq
}

// newPassive answers a SYN with a child in SYN-RECEIVED whose SYN-ACK is
// in out (RFC 9293 §3.10.7.2, LISTEN state, third check).
func newPassive(env *Env, now time.Duration, t Tuple, seg *Segment, out *Output) *Conn {
	c := newFromSyn(env, now, t, env.ISN.ISN(now, t), seg)
	c.queueSynText(seg)
	c.sendSyn(now, out)
	return c
}

// sendSyn sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED).
func (c *Conn) sendSyn(now time.Duration, out *Output) {
	s := out.push(c.tuple)
	s.Seq = c.iss
	s.Flags = flagSYN
	synAck := c.state != SynSent
	s.Flags |= c.ecnSynFlags(synAck)
	if synAck {
		s.Flags |= flagACK
		s.Ack = c.rcvNxt
		c.lastAckSent = c.rcvNxt
	}
	c.synOptions(&s.Options, now, synAck)
	// RFC 7323 §2.2: the window in a SYN is not scaled.
	s.Window = uint16(min(c.rcv.free(), 65535))
	if synAck {
		c.rcvAdv = seqnum.Max(c.rcvAdv, c.rcvNxt.Add(seqnum.Size(s.Window)))
	}
	first := c.sndMax == c.iss
	c.sndNxt = c.iss.Add(1)
	if first && !synAck && c.tfo.isActive() {
		// A retransmitted SYN is a plain one (RFC 7413 §4.1.3.1).
		c.sndNxt = c.sndNxt.Add(seqnum.Size(c.fastOpenSyn(now, s)))
	}
	c.sndMax = seqnum.Max(c.sndMax, c.sndNxt)
	if first {
		c.timing, c.timedSeq, c.timedAt = true, c.sndNxt, now
	}
	if c.rtoAt == never {
		c.rtoAt = now + c.rto
	}
	c.ackNow = false
}

// synOptions fills o with the options of our SYN or SYN-ACK. On a SYN-ACK
// (peerSYN set) an option is sent only if the peer's SYN carried it
// (RFC 7323 §1.3 and §2.2, RFC 2018 §2).
func (c *Conn) synOptions(o *wire.Options, now time.Duration, synAck bool) {
	cfg := &c.env.Config
	o.HasMSS, o.MSS = true, c.advMSS
	if !cfg.NoWindowScaling && (!synAck || c.wsOK) {
		o.HasWScale, o.WScale = true, c.offerShift
	}
	if !cfg.NoSACK && (!synAck || c.sackOK) {
		o.SACKPermitted = true
	}
	if !cfg.NoTimestamps && (!synAck || c.tsOK) {
		o.HasTimestamps = true
		o.TSVal = c.tsVal(now)
		if synAck {
			o.TSEcr = c.tsRecent
		}
	}
	if synAck && c.tfo != nil && c.tfo.sendCookie {
		// RFC 7413 §4.2.2: a fresh cookie for a request or a bad cookie.
		ck := c.env.fastOpenCookie(now, c.tuple)
		o.SetFastOpen(ck[:], c.tfo.exp)
	}
}

// negotiate records what the peer's SYN (or SYN-ACK) offered. For a SYN
// received in LISTEN or SYN-SENT without ACK, we have not sent our
// options yet (passive) or sent all of ours (simultaneous open); for a
// SYN-ACK, our SYN offered everything the configuration allows.
func (c *Conn) negotiate(seg *Segment, now time.Duration) {
	cfg := &c.env.Config
	o := &seg.Options
	// RFC 9293 §3.7.1 (MUST-15, MUST-16): the peer's MSS bounds what we
	// send; without the option, the default applies.
	if o.HasMSS && o.MSS > 0 {
		c.sndMSS = o.MSS
	} else {
		c.sndMSS = defaultSendMSS(c.tuple.LocalAddr.Is4())
	}
	// Never send more than our own interface allows either.
	c.sndMSS = min(c.sndMSS, c.advMSS)
	if c.sndMSS < minSendMSS {
		// A tiny MSS would make the effective MSS zero once options
		// are subtracted; clamp it, as Linux does (tcp_min_snd_mss, 48).
		c.sndMSS = minSendMSS
	}
	// RFC 7323 §2.2: scaling is on only if both SYNs carried the option.
	if o.HasWScale && !cfg.NoWindowScaling {
		c.wsOK = true
		c.sndShift = min(o.WScale, maxWindowShift) // §2.3: cap at 14
		c.rcvShift = c.offerShift
	} else {
		c.wsOK, c.sndShift, c.rcvShift = false, 0, 0
	}
	c.sackOK = o.SACKPermitted && !cfg.NoSACK
	if o.HasTimestamps && !cfg.NoTimestamps {
		c.tsOK = true
		c.tsRecent = o.TSVal
		c.tsRecentAt = now
	} else {
		c.tsOK = false
	}
	c.ecnNegotiate(seg)
	c.cc.init(c)
}

// inputSynSent is RFC 9293 §3.10.7.3.
func (c *Conn) inputSynSent(now time.Duration, seg *Segment, out *Output) {
	ackOK := false
	if seg.has(flagACK) {
		// First: an ACK for something we never sent gets a RST
		// <SEQ=SEG.ACK><CTL=RST> unless it is itself a RST.
		if seg.Ack.LessThanEq(c.iss) || seg.Ack.GreaterThan(c.sndMax) {
			if !seg.has(flagRST) {
				r := out.push(c.tuple)
				r.Seq, r.Flags = seg.Ack, flagRST
			}
			c.drop(seg, DropBadAckInSynSent)
			return
		}
		ackOK = true
	}
	if seg.has(flagRST) {
		// Second: a RST counts only with an acceptable ACK
		// (RFC 9293 §3.10.7.3; RFC 5961 §3.2 for SYN-SENT).
		if !ackOK {
			c.drop(seg, DropRSTUnacceptable)
			return
		}
		c.env.Stats.AttemptFails++
		c.closeWith(now, ErrConnectionRefused)
		return
	}
	if !seg.has(flagSYN) {
		c.drop(seg, DropNoSynOrRST)
		return
	}
	// Fourth: the SYN synchronizes the receive side.
	c.synchronize(now, seg)
	c.sndWl2 = seg.Ack
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size(min(c.rcv.free(), 65535)))
	if ackOK {
		c.fastOpenSynAck(now, seg)
		c.sndUna = seg.Ack
		c.synAcked(now)
		c.setState(Established)
		if c.finQueued {
			c.enterFinState()
		}
		c.events |= EvEstablished | EvWritable
		c.ackNow = true
		// Sixth step onwards for any data or FIN on the SYN-ACK, cut to
		// the window our SYN offered (RFC 9293 §3.10.7.4: trim what lies
		// outside the window) so that it cannot overrun the buffer.
		seq, payload, fin := c.trim(seg, c.rcvWnd())
		c.acceptText(now, seg, seq, payload, fin, out)
		return
	}
	// Simultaneous open (RFC 9293 §3.5, figure 7; MUST-10): answer with
	// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and wait in SYN-RECEIVED.
	c.passive = false
	c.setState(SynReceived)
	c.queueSynText(seg)
	c.sndNxt = c.iss
	c.rtoAt = never
}

// queueSynText keeps data and FIN that came on a SYN for processing once
// ESTABLISHED is reached (RFC 9293 §3.10.7.2 and §3.10.7.3).
func (c *Conn) queueSynText(seg *Segment) {
	start := seg.Seq.Add(1)
	payload := seg.Payload
	if n := min(len(payload), c.rcv.free(), 65535); n < len(payload) {
		payload = payload[:n]
	}
	c.rcv.insert(c.rcvNxt, start, payload, &c.env.recvPool)
	if seg.has(flagFIN) && len(payload) == len(seg.Payload) {
		c.rcvFinAhead = true
		c.rcvFinSeq = start.Add(seqnum.Size(len(payload)))
	}
}

// synAcked stops the handshake timer and takes the handshake's RTT sample
// unless the SYN was retransmitted (Karn's rule, RFC 6298 §3).
func (c *Conn) synAcked(now time.Duration) {
	c.retries = 0
	c.rtoAt = never
	if c.timing && !c.synRetrans {
		c.rttSample(now - c.timedAt)
	} else if c.synRetrans && c.srtt == 0 {
		// RFC 6298 §5.7: after a retransmitted SYN with no sample,
		// start data transfer with RTO = 3 s.
		c.rto = max(3*time.Second, c.env.Config.MinRTO)
	}
	c.timing = false
	if c.sndNxt.LessThan(c.sndUna) {
		c.sndNxt = c.sndUna
	}
	if c.sndMax.GreaterThan(c.sndUna) {
		// RFC 6298 §5.3: data sent with or after the SYN (a Fast Open
		// server's in SYN-RECEIVED, RFC 7413 §4.2.2) is still
		// outstanding: its timer runs on.
		c.rtoAt = now + c.rto
	}
}

// synRetransmitted answers a retransmission of the SYN that made this
// SYN-RECEIVED connection: our SYN-ACK was lost, so it goes again.
func (c *Conn) synRetransmitted(seg *Segment) bool {
	if c.state != SynReceived || !seg.has(flagSYN) || seg.has(flagRST) || seg.has(flagACK) || seg.Seq != c.irs {
		return false
	}
	c.sndNxt = c.iss
	return true
}

// badSynReceivedAck reports whether seg, in SYN-RECEIVED (or FIN-WAIT-1
// before our SYN was acknowledged), acknowledges something we never sent
// or not our SYN: SEG.ACK =< ISS or SEG.ACK > SND.NXT.
func (c *Conn) badSynReceivedAck(seg *Segment) bool {
	return !seg.Ack.GreaterThan(c.sndUna) || seg.Ack.GreaterThan(c.sndMax)
}

// resetBadAck answers an unacceptable ACK in a non-synchronized state
// with <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.5.2 group 2, §3.10.7.4), within
// the connection's budget for answers to invalid segments. The check comes
// before the sequence number's: §3.5.2 states the rule for any segment
// with an unacceptable ACK, and Linux's tcp_check_req orders it so. A
// SYN-RECEIVED child that a blind SYN
// made out of TIME-WAIT meets the old peer's ACKs this way and resets the
// peer's half of the old connection at its RCV.NXT, instead of trading
// out-of-window ACKs with it (RFC 9293 §3.5.1, half-open discovery).
func (c *Conn) resetBadAck(now time.Duration, seg *Segment, out *Output) {
	if !c.mayAnswer(now, seg, answerBadAck) {
		return
	}
	r := out.push(c.tuple)
	r.Seq, r.Flags = seg.Ack, flagRST
	c.drop(seg, DropBadAckInSynReceived)
}

// synReceivedAck is the fifth step in SYN-RECEIVED (or FIN-WAIT-1 before
// our SYN was acknowledged): an acceptable ACK completes the handshake
// (RFC 9293 §3.10.7.4). It reports whether it consumed the segment.
func (c *Conn) synReceivedAck(now time.Duration, seg *Segment, out *Output) bool {
	if c.badSynReceivedAck(seg) {
		c.resetBadAck(now, seg, out)
		return true
	}
	if c.listener != nil && !c.tfo.isEarly() && !c.listener.roomToAccept() {
		// Like Linux: ignore the final ACK while the accept queue
		// is full; the SYN-ACK timer retries later.
		c.env.Stats.ListenOverflows++
		c.drop(seg, DropAcceptQueueFull)
		return true
	}
	c.handshakeDone(now, seg)
	// Data and FIN that came on the SYN are processed now.
	if grow := c.rcv.advance(c.rcvNxt); grow > 0 {
		c.rcvNxt = c.rcvNxt.Add(seqnum.Size(grow))
		c.events |= EvReadable
		c.ackNow = true
	}
	if c.rcvFinAhead && c.rcvNxt == c.rcvFinSeq {
		c.finReceived(now)
	}
	return false
}

// handshakeDone takes the ACK of our SYN in SYN-RECEIVED: the send window
// from it, ESTABLISHED (or the FIN state a CLOSE asked for), and a place
// in the listener's accept queue. Data a Fast Open server sent in
// SYN-RECEIVED (RFC 7413 §4.2.2) is left to processAck.
func (c *Conn) handshakeDone(now time.Duration, seg *Segment) {
	c.sndUna = c.iss.Add(1)
	c.synAcked(now)
	c.sndWnd = c.segWindow(seg)
	c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
	c.sndWl1, c.sndWl2 = seg.Seq, seg.Ack
	if c.state == SynReceived {
		c.setState(Established)
		if c.finQueued {
			c.enterFinState()
		}
	}
	c.events |= EvEstablished | EvWritable
	if c.listener != nil {
		c.listener.childEstablished(c)
	}
}
