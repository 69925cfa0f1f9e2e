package tcp

import (
	"io"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// Errors a connection reports. They are the errno values the sockets API
// uses, so errors.Is works as it does with package net.
var (
	ErrConnectionRefused = syscall.ECONNREFUSED
	ErrConnectionReset   = syscall.ECONNRESET
	ErrTimedOut          = syscall.ETIMEDOUT
	ErrConnectionAborted = syscall.ECONNABORTED
	ErrNotConnected      = syscall.ENOTCONN
)

// Events tell the caller what changed in a connection since it last asked.
type Events uint8

// Event bits.
const (
	EvEstablished Events = 1 << iota // reached ESTABLISHED
	EvReadable                       // data or end of stream to read
	EvWritable                       // send buffer space freed
	EvError                          // Err() is set
	EvClosed                         // reached CLOSED: forget the TCB
	EvReopen                         // TIME-WAIT accepted a new SYN: hand it to the listener
	EvAcceptable                     // a passive child joined its listener's accept queue
)

// never is a deadline that does not come.
const never = time.Duration(1<<63 - 1)

// Never is what Deadline returns when no timer is running.
const Never = never

// Conn is one connection's transmission control block (RFC 9293 §3.3.1)
// plus its buffers and timers.
type Conn struct {
	env      *Env
	listener *Listener // set while a passive child is unaccepted
	tuple    Tuple
	err      error
	softErr  error // last ICMP soft error: reported instead of ETIMEDOUT
	state    State
	events   Events
	passive  bool // SYN-RECEIVED came from LISTEN (MUST-11)
	// refuseReopen keeps TIME-WAIT when a new SYN has nowhere to go.
	refuseReopen bool
	noDelay      bool
	synRetries   uint8 // SetSynRetries (TCP_SYNCNT); zero means Config.SynRetries

	// Send sequence variables (RFC 9293 §3.3.1).
	iss       seqnum.Value
	sndUna    seqnum.Value
	sndNxt    seqnum.Value // next to send (moves back on retransmission)
	sndMax    seqnum.Value // highest sequence sent plus one: RFC 9293's SND.NXT for ACK checks
	sndWnd    uint32       // scaled
	maxSndWnd uint32       // largest window the peer offered (RFC 5961 §5.2 MAX.SND.WND)
	sndWl1    seqnum.Value
	sndWl2    seqnum.Value
	bufSeq    seqnum.Value // sequence number of snd's first byte

	// Receive sequence variables.
	irs    seqnum.Value
	rcvNxt seqnum.Value
	rcvAdv seqnum.Value // right edge of the window we advertised

	// Negotiated parameters (RFC 9293 §3.7.1, RFC 7323, RFC 2018).
	tsRecentAt  time.Duration
	tsRecent    uint32
	tsOffset    uint32
	lastAckSent seqnum.Value
	sndMSS      uint16 // largest payload the peer accepts, from its MSS option
	advMSS      uint16 // what we advertised
	sndShift    uint8
	rcvShift    uint8
	offerShift  uint8 // our window scale shift, as offered
	wsOK        bool
	sackOK      bool
	tsOK        bool

	snd sendBuffer
	rcv recvBuffer

	// Closing.
	rcvFinSeq   seqnum.Value // sequence number of a FIN received out of order
	finQueued   bool         // the user closed the send side: FIN after the data
	userClosed  bool         // the user closed both sides
	finRcvd     bool
	rcvFinAhead bool
	ackNow      bool

	// Retransmission (RFC 6298).
	timing         bool
	synRetrans     bool
	forceProbe     bool
	timedSeq       seqnum.Value
	rto            time.Duration
	srtt           time.Duration
	rttvar         time.Duration
	rtoAt          time.Duration
	retries        int
	timedAt        time.Duration
	persistAt      time.Duration
	persistBackoff int
	closeAt        time.Duration // TIME-WAIT or orphaned FIN-WAIT-2 expiry

	cc     congestion
	delack delAck
	ca     CongestionControl // the congestion-control algorithm (cc.go), started by cong()
	ecn    ecnState
	ccAlg  CCAlgorithm // the per-connection choice, CCDefault for the Env's

	// Loss recovery, allocated by loss() once something past the SYN is
	// outstanding or the receiver has blocks to report (recovery.go), so
	// a half-open or idle connection stays small.
	*lossState
	ka      *keepAlive     // allocated when keep-alives are first turned on
	answers answerBudgets  // for invalid segments (ratelimit.go)
	tfo     *fastOpenState // Fast Open's state, allocated only for a connection that uses it
}

// State returns the connection's state.
func (c *Conn) State() State { return c.state }

// Tuple returns the connection's endpoints.
func (c *Conn) Tuple() Tuple { return c.tuple }

// Passive reports whether the connection came from a listener.
func (c *Conn) Passive() bool { return c.passive }

// Err returns the error that ended the connection, if any.
func (c *Conn) Err() error { return c.err }

// TakeEvents returns and clears the pending events.
func (c *Conn) TakeEvents() Events {
	e := c.events
	c.events = 0
	return e
}

// InputMayReopen is Input for a segment whose SYN may find c in
// TIME-WAIT: with reopen false (no listener would take a new incarnation)
// TIME-WAIT answers even a valid new SYN as an old duplicate (RFC 9293
// §3.10.7.4 lets it reopen, not must). It reports whether TIME-WAIT gave
// way: c is closed and the caller hands the SYN to its listener.
func (c *Conn) InputMayReopen(now time.Duration, seg *Segment, out *Output, reopen bool) bool {
	c.refuseReopen = !reopen
	c.Input(now, seg, out)
	return c.events&EvReopen != 0
}

// SetNoDelay turns Nagle's algorithm (RFC 9293 §3.7.4) off (true) or on.
func (c *Conn) SetNoDelay(v bool) { c.noDelay = v }

// SetSynRetries sets how many times this connection's SYN is sent again
// before the connect fails with ETIMEDOUT (Linux's TCP_SYNCNT); zero
// means Config.SynRetries.
func (c *Conn) SetSynRetries(n int) { c.synRetries = uint8(min(max(n, 0), 255)) }

// SetBuffers sets the send and receive buffer limits (SO_SNDBUF,
// SO_RCVBUF). Only effective before the handshake; zero keeps a value.
func (c *Conn) SetBuffers(send, recv int) {
	if c.state > SynSent || c.sndMax != c.iss {
		return
	}
	if send > 0 && c.snd.buf == nil {
		c.snd.limit = send
	}
	if recv > 0 && c.rcv.buf == nil {
		c.rcv.limit = recv
		c.offerShift = windowShiftFor(recv)
	}
}

// Readable returns the bytes ready to read.
func (c *Conn) Readable() int { return c.rcv.n }

// Writable returns the free space in the send buffer.
func (c *Conn) Writable() int {
	if c.finQueued || c.state == Closed {
		return 0
	}
	return c.snd.free()
}

// SendQueued returns the bytes written and not yet acknowledged.
func (c *Conn) SendQueued() int { return c.snd.n }

// EffectiveMSS returns the largest payload this connection sends in one
// segment with no options beyond timestamps (RFC 9293 §3.7.1, MUST-16).
func (c *Conn) EffectiveMSS() int {
	m := int(c.sndMSS)
	if c.tsOK {
		m -= 12
	}
	return m
}

// Negotiated describes what the handshake agreed on.
type Negotiated struct {
	SendMSS, AdvertisedMSS uint16
	WindowScale            bool
	SendShift, RecvShift   uint8
	SACK, Timestamps       bool
	// SynData: data carried in a SYN was acknowledged by the SYN-ACK
	// (TCP Fast Open, RFC 7413; Linux's TCPI_OPT_SYN_DATA).
	SynData bool
}

// Negotiated returns the parameters the handshake agreed on.
func (c *Conn) Negotiated() Negotiated {
	return Negotiated{
		SendMSS: c.sndMSS, AdvertisedMSS: c.advMSS,
		WindowScale: c.wsOK, SendShift: c.sndShift, RecvShift: c.rcvShift,
		SACK: c.sackOK, Timestamps: c.tsOK,
		SynData: c.tfo.dataAcked(),
	}
}

// Read copies received in-order data into p. It returns io.EOF once the
// peer's FIN has been read past, the connection's error once it failed,
// and (0, nil) when there is nothing yet.
func (c *Conn) Read(p []byte) (int, error) {
	if c.rcv.n > 0 {
		n := c.rcv.read(p, &c.env.recvPool)
		// RFC 9293 §3.8.6.2.2: tell the peer when the window opens by
		// enough to matter, so a sender stalled on a zero window resumes.
		// After the peer's FIN no more data can come: an update would
		// only draw a RST from a peer that has since closed.
		if c.state.Synchronized() && !c.finRcvd && c.windowUpdateWorthy() {
			c.ackNow = true
		}
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.finRcvd {
		return 0, io.EOF
	}
	if c.state == Closed {
		return 0, ErrNotConnected
	}
	return 0, nil
}

// Write queues p for sending and returns how much fit.
func (c *Conn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.finQueued {
		return 0, syscall.EPIPE
	}
	switch c.state {
	case Closed, Listen:
		return 0, ErrNotConnected
	}
	return c.snd.write(p, &c.env.sendPool), nil
}

// windowUpdateWorthy reports whether a read freed enough space to move
// the advertised right edge, by the same rule windowField applies
// (RFC 9293 §3.8.6.2.2): then a window update is sent at once, so a
// sender held back by a small window does not wait for its persist timer.
func (c *Conn) windowUpdateWorthy() bool {
	right := c.rcvNxt.Add(c.advertisable())
	if !right.GreaterThan(c.rcvAdv) {
		return false
	}
	step := seqnum.Size(min(c.rcv.limit/2, int(c.advMSS)))
	if c.rcvAdv.Size(right) < step {
		return false
	}
	// Only once the window the peer sees is at most half the new one
	// (as Linux's tcp_cleanup_rbuf): while it still has room it keeps
	// sending, and its data draws ACKs anyway. An update per read (an
	// application reading a 64 KiB segment 8 KiB at a time) would
	// cost more than the data.
	var open seqnum.Size
	if c.rcvAdv.GreaterThan(c.rcvNxt) {
		open = c.rcvNxt.Size(c.rcvAdv)
	}
	return c.rcvNxt.Size(right) >= 2*open
}

func (c *Conn) setState(s State) {
	if s == c.state {
		return
	}
	from := c.state
	wasEstab := from == Established || from == CloseWait
	isEstab := s == Established || s == CloseWait
	if !wasEstab && isEstab {
		c.env.Stats.CurrEstab++
	} else if wasEstab && !isEstab {
		c.env.Stats.CurrEstab--
	}
	c.state = s
	if from == SynReceived {
		c.fastOpenLeftSynReceived()
	}
	if o := c.env.Observer; o != nil {
		o.StateChanged(c, from, s)
	}
}

// Deadline returns when Poll next has timer work to do, or Never.
func (c *Conn) Deadline() time.Duration {
	if c.state == Closed {
		return never
	}
	d := c.rtoAt
	if c.persistAt < d {
		d = c.persistAt
	}
	if c.closeAt < d {
		d = c.closeAt
	}
	if l := c.lossState; l != nil {
		d = min(d, l.rackAt, l.tlpAt)
	}
	if c.keepAliveOn() && c.ka.at < d {
		d = c.ka.at
	}
	d = min(d, c.tfo.deferDeadline())
	d = min(d, c.delAckDeadline())
	if c.ackNow {
		return 0
	}
	return d
}
