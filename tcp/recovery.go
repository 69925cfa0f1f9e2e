package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// dupThresh is RFC 5681 §3.2's DupThresh, the starting point of the
// learned reordering degree (RFC 6675 §2, RFC 4653's idea).
const dupThresh = 3

// maxReordering caps the learned reordering degree, in segments (Linux
// caps tcp_max_reordering at 300).
const maxReordering = 300

// recState is where loss recovery stands.
type recState uint8

const (
	recOpen recState = iota // no loss being repaired
	recFast                 // fast recovery: RFC 6675 with PRR, or RFC 6582 without SACK
	recLoss                 // after a retransmission timeout (RFC 6675 §5.1)
)

// recovery is the sender's loss-recovery state: what is being repaired,
// the learned reordering degree, and what undoing the last window
// reduction would need.
type recovery struct {
	state      recState
	recover    seqnum.Value // RecoveryPoint (RFC 6675) / recover (RFC 6582)
	recoverSet bool
	dupAcks    int // RFC 5681 §2 duplicate ACKs in a row (without SACK)
	reordering int // the largest reordering seen, in segments (RFC 4737 §4.2 degree)

	highRetrans    seqnum.Value // end of the highest retransmission (RFC 6675 HighRxt)
	highRetransSet bool
	// forceRetransmit lets the fast retransmit (RFC 5681 §3.2 step 2), a
	// partial ACK's (RFC 6582 §3.2) and the RTO's retransmission go out
	// whatever the window says.
	forceRetransmit bool
	prr             prr

	// Undo (RFC 2883 §5 and RFC 8985 §9.3: DSACKs for every retransmission
	// of an episode show it was spurious).
	undoArmed   bool
	undoRetrans int          // retransmissions not yet DSACKed
	undoMarker  seqnum.Value // SND.UNA when the episode began
	lastEpisode recState     // what the episode was

	// F-RTO (RFC 5682 §2): 1 after the RTO's retransmission, 2 once the
	// first ACK after it advanced the window and new data went out.
	frto      int
	frtoAllow uint32 // new octets F-RTO step 2b may send beyond cwnd

	fastRecoveries     uint64 // recoveries entered (RFC 6675 or RFC 6582)
	rtos               uint64 // retransmission timeouts
	spuriousRecoveries uint64 // undone by DSACK
	spuriousRTOs       uint64 // undone by F-RTO or DSACK
}

func (r *recovery) init(iss seqnum.Value) {
	*r = recovery{reordering: dupThresh, recover: iss}
}

// segsSACKed approximates RACK.segs_sacked from the octets SACKed.
func (r *recovery) segsSACKed(c *Conn) int {
	return int(c.sb.sacked / uint32(max(c.EffectiveMSS(), 1)))
}

// pipe is RFC 6675's estimate of the octets in the network.
func (c *Conn) pipe() uint32 {
	if c.lossState == nil {
		return 0 // nothing recorded as sent
	}
	return c.sb.pipe
}

// flight is FlightSize (RFC 5681 §2): octets sent and not yet acknowledged.
func (c *Conn) flight() uint32 { return uint32(c.sndUna.Size(c.sndMax)) }

// ackInfo is what processAck learned from one ACK for recovery.
type ackInfo struct {
	advanced  bool   // SND.UNA moved
	delivered uint32 // octets newly acknowledged or SACKed (RFC 6937 DeliveredData)
	dup       bool   // an RFC 5681 §2 duplicate ACK
	dsack     bool   // the first SACK block was a D-SACK (RFC 2883 §4)
	sacked    bool   // new SACK information arrived
}

// ackedTo takes the segments below ack off the scoreboard and tells RACK
// about each one not SACKed before.
func (c *Conn) ackedTo(now time.Duration, seg *Segment, ack seqnum.Value, ai *ackInfo) {
	fack := c.sb.highSACK
	if c.sb.sacked == 0 {
		fack = c.sndUna
	}
	c.sb.ackTo(ack, func(s *txSeg) {
		if s.flags&segSACKed != 0 {
			return
		}
		ai.delivered += s.len()
		c.deliveredSeg(now, seg, s, fack)
	})
}

// deliveredSeg updates RACK and the reordering degree for one segment
// newly delivered; fack is the highest SACKed sequence before this ACK.
func (c *Conn) deliveredSeg(now time.Duration, seg *Segment, s *txSeg, fack seqnum.Value) {
	if !c.sackOK {
		return
	}
	seen := c.rack.reorderingSeen
	c.rack.delivered(s, now, fack)
	if c.rack.reorderingSeen && (!seen || s.end.LessThan(fack)) {
		// Delivered below segments SACKed before it: the network
		// reordered it by this many segments (the degree of RFC 4737
		// §4.2, Linux's tp->reordering), kept for TCP_INFO.
		mss := uint32(max(c.EffectiveMSS(), 1))
		deg := int(uint32(s.end.Size(fack))/mss) + 1
		c.rec.reordering = min(max(c.rec.reordering, deg), maxReordering)
	}
}

// sackReceived applies the SACK blocks of an ACK to the scoreboard
// (RFC 6675 §4 Update()), after sorting out a D-SACK (RFC 2883 §4).
func (c *Conn) sackReceived(now time.Duration, seg *Segment, ai *ackInfo) {
	o := &seg.Options
	if o.NumSACK == 0 {
		return
	}
	first := 0
	if d, ok := c.dsackBlock(seg); ok {
		ai.dsack = true
		first = 1
		c.dsackReceived(now, d)
	}
	fack := c.sb.highSACK
	if c.sb.sacked == 0 {
		fack = c.sndUna
	}
	for i := first; i < o.NumSACK; i++ {
		b := o.SACK[i]
		start, end := seqnum.Value(b.Start), seqnum.Value(b.End)
		// RFC 2018 §3 and RFC 6675 §4: only blocks within what is
		// outstanding mean anything; others (stale, or forged) are
		// ignored.
		if !start.LessThan(end) || end.GreaterThan(c.sndMax) || !end.GreaterThan(c.sndUna) {
			continue
		}
		start = seqnum.Max(start, c.sndUna)
		c.sb.markSACKed(start, end, func(s *txSeg) {
			ai.delivered += s.len()
			ai.sacked = true
			c.deliveredSeg(now, seg, s, fack)
		})
	}
}

// recoveryOnAck runs loss detection and the recovery state machine for
// one ACK, after the scoreboard has been updated.
func (c *Conn) recoveryOnAck(now time.Duration, ai *ackInfo, rtt time.Duration) {
	r := &c.rec
	mss := uint32(max(c.EffectiveMSS(), 1))
	c.tlpOnAck(now, ai)
	if r.frto > 0 && c.frtoOnAck(now, ai) {
		return
	}
	if ai.advanced {
		r.dupAcks = 0
	} else if ai.dup {
		r.dupAcks++
	}
	ended := false
	if r.state != recOpen && c.sndUna.GreaterThanEq(r.recover) {
		c.endRecovery(now)
		ended = true
	}

	lost := false
	if c.sackOK {
		// With SACK, only SACK information or RACK's timing declares
		// a loss: duplicate ACKs carrying nothing new change nothing.
		if ai.sacked || c.rack.advance {
			m, wait := c.rackDetectLoss(now)
			lost = m
			c.armRACKTimer(now, wait)
		}
		// RFC 6675 IsLost (DupThresh SACKed segments above) until the
		// path shows reordering; from then on RACK's reordering window
		// decides alone, as RFC 8985 §3.3 lets it replace DupThresh.
		if ai.sacked && !c.rack.reorderingSeen && c.sb.markIsLost(dupThresh, mss) {
			lost = true
		}
		c.rack.advance = false
	} else {
		lost = c.newRenoOnAck(now, ai, mss)
	}
	if lost && r.state == recOpen {
		c.enterRecovery(now)
	}

	switch r.state {
	case recFast:
		if c.sackOK {
			// RFC 6937 §3.1: cwnd = pipe + sndcnt.
			pipe := c.pipe()
			c.cong().SetCwnd(pipe + r.prr.sndcnt(ai.delivered, pipe, c.cong().Ssthresh(), mss))
		}
	case recOpen, recLoss:
		// RFC 5681 §3.1: the window grows with ACKs that advance
		// SND.UNA (counting what they deliver, SACKed octets too).
		if ai.delivered > 0 && ai.advanced && !ended {
			c.cong().OnAck(now, ai.delivered, rtt, c.pipe())
		}
	}
}

// newRenoOnAck is RFC 5681 §3.2 with RFC 6582 for a peer without SACK.
// It reports whether the ACK starts a recovery.
func (c *Conn) newRenoOnAck(now time.Duration, ai *ackInfo, mss uint32) bool {
	r := &c.rec
	switch r.state {
	case recOpen:
		// RFC 6582 §3.2 step 1: a new recovery only past the last one.
		return ai.dup && r.dupAcks == dupThresh && (!r.recoverSet || c.sndUna.GreaterThan(r.recover))
	case recFast:
		if ai.dup {
			c.cong().SetCwnd(c.cong().Cwnd() + mss) // RFC 5681 §3.2 step 4: inflate
		} else if ai.advanced {
			// RFC 6582 §3.2 step 3: a partial ACK retransmits the
			// next hole and deflates the window by what it acked.
			c.markHeadLost()
			w := c.cong().Cwnd()
			if ai.delivered < w {
				w -= ai.delivered
			}
			c.cong().SetCwnd(w + mss)
		}
	case recLoss:
		// After a timeout everything was resent in order; duplicate
		// ACKs at a segment already resent mean the resent copy was
		// lost too. Resend it rather than wait for a doubled RTO.
		if ai.dup && r.dupAcks == dupThresh {
			c.markHeadLost()
		}
	}
	return false
}

// markHeadLost deems the first MSS at SND.UNA lost and lets it go out
// now. One MSS, not the whole head segment: a large (TSO) segment holds
// several, and without SACK nothing says the others left the network
// (RFC 5681 §3.2 step 3 retransmits "the lost segment").
func (c *Conn) markHeadLost() {
	if c.sb.empty() {
		return
	}
	head := c.sb.segs[c.sb.head]
	if mss := uint32(max(c.EffectiveMSS(), 1)); head.len() > mss {
		c.sb.split(head.start.Add(seqnum.Size(mss)))
	}
	c.sb.markLost(c.sb.head)
	c.rec.forceRetransmit = true
}

// enterRecovery is RFC 6675 §5 step 4 (or RFC 5681 §3.2 step 2 without
// SACK): reduce the window once, remember the recovery point, and start
// PRR.
func (c *Conn) enterRecovery(now time.Duration) {
	r := &c.rec
	mss := uint32(max(c.EffectiveMSS(), 1))
	flight := c.flight()
	r.state = recFast
	r.fastRecoveries++
	c.env.Stats.FastRecoveries++
	r.recover, r.recoverSet = c.sndMax, true
	c.cong().OnCongestionEvent(now, flight)
	r.prr.start(flight)
	c.armUndo()
	r.forceRetransmit = true
	if !c.sackOK {
		// RFC 5681 §3.2 step 3 (RFC 6582 §3.2 step 2): the three
		// segments that left the network.
		c.markHeadLost()
		c.cong().SetCwnd(c.cong().Ssthresh() + 3*mss)
	}
	c.cancelTLP()
}

// endRecovery is RFC 6675 §5's end of recovery at RecoveryPoint, with
// RFC 6937's cwnd = ssthresh: the window stays at what PRR reduced it to
// rather than collapsing to what happens to be in flight.
func (c *Conn) endRecovery(now time.Duration) {
	r := &c.rec
	if r.state == recFast {
		c.cong().OnRecoveryEnd(now)
	}
	r.state = recOpen
	r.highRetransSet = false
	c.rack.recoveryEnded()
}

// armUndo starts counting the retransmissions of a new episode.
func (c *Conn) armUndo() {
	r := &c.rec
	r.undoArmed = true
	r.undoRetrans = 0
	r.undoMarker = c.sndUna
	r.lastEpisode = r.state
}

// retransmitted is called for each retransmission sent.
func (c *Conn) retransmitted(start, end seqnum.Value, n uint32) {
	r := &c.rec
	if !r.highRetransSet || end.GreaterThan(r.highRetrans) {
		r.highRetrans, r.highRetransSet = end, true
	}
	if r.undoArmed {
		r.undoRetrans++
	}
}

// dsackReceived is RFC 2883 §5 and RFC 8985 §6.2 step 4: a D-SACK for
// data we retransmitted in this episode means one retransmission was not
// needed; when all were so shown, the reduction was spurious and is undone.
func (c *Conn) dsackReceived(now time.Duration, d seqRange) {
	c.env.Stats.DSACKsReceived++
	c.rack.onDSACK(c.sndUna, c.sndMax)
	r := &c.rec
	if !r.undoArmed || d.start.LessThan(r.undoMarker) || r.undoRetrans <= 0 {
		return
	}
	// Above SND.UNA the scoreboard knows whether we resent it; a
	// duplicate of data sent once was the network's, not ours (as
	// Linux's tcp_sacktag_one counts only EVER_RETRANS segments).
	if d.end.GreaterThan(c.sndUna) && !c.sb.everRetransmitted(seqnum.Max(d.start, c.sndUna), d.end) {
		return
	}
	r.undoRetrans--
	if r.undoRetrans > 0 {
		return
	}
	c.undo(now)
}

// undo reverts the last window reduction, which proved spurious, and
// raises the reordering degree so the same reordering is not taken for
// loss again.
func (c *Conn) undo(now time.Duration) {
	r := &c.rec
	r.undoArmed = false
	c.cong().Undo(now)
	c.env.Stats.SpuriousUndos++
	if r.lastEpisode == recLoss {
		r.spuriousRTOs++
	} else {
		r.spuriousRecoveries++
	}
	if r.state != recOpen {
		r.state = recOpen
		r.highRetransSet = false
	}
}

// recoveryOnRTO is the loss-recovery side of a retransmission timeout
// (RFC 6675 §5.1, RFC 5682 §2 step 1): reduce the window to one segment,
// and resend from SND.UNA. On the first timeout of an episode F-RTO
// resends only the first segment and waits for the next ACK to tell
// whether the timeout was spurious.
func (c *Conn) recoveryOnRTO(now time.Duration) {
	r := &c.rec
	flight := c.flight()
	r.rtos++
	c.env.Stats.RTOs++
	firstTimeout := r.state != recLoss
	r.state = recLoss
	if firstTimeout {
		c.cong().OnRTO(now, flight)
		c.armUndo()
	} else {
		c.cong().SetCwnd(uint32(max(c.EffectiveMSS(), 1)))
	}
	r.recover, r.recoverSet = c.sndMax, true
	r.dupAcks = 0
	r.highRetransSet = false
	c.cancelTLP()
	c.rackAt = never
	// RFC 2018 §8: after repeated timeouts the peer may have reneged on
	// what it SACKed; forget it and resend everything.
	forget := c.retries > 1
	if firstTimeout && !forget && c.snd.n > int(c.bufSeq.Size(c.sndMax)) {
		// RFC 5682 §2 step 1: resend the first segment only.
		r.frto = 1
		c.markHeadLost()
	} else {
		r.frto = 0
		c.sb.markAllLost(forget, false)
	}
	r.forceRetransmit = true
}

// frtoOnAck is RFC 5682 §2 steps 2 and 3. It reports whether it handled
// the ACK completely.
func (c *Conn) frtoOnAck(now time.Duration, ai *ackInfo) bool {
	r := &c.rec
	if !ai.advanced && !ai.dup && !ai.sacked {
		return false // a window update: F-RTO waits for a real ACK
	}
	switch {
	case !ai.advanced || c.sndUna.GreaterThanEq(r.recover) && r.frto == 1:
		// Step 2a (a duplicate) or an ACK of everything: the timeout
		// was real; go on resending as RFC 6675 §5.1 does.
		r.frto = 0
		c.sb.markAllLost(false, true)
		return false
	case r.frto == 1:
		// Step 2b: the window advanced; send two new segments.
		r.frto = 2
		r.frtoAllow = 2 * uint32(max(c.EffectiveMSS(), 1))
		return true
	default:
		// Step 3b: a second ACK advanced the window: the timeout was
		// spurious; the originals were delivered.
		r.frto = 0
		r.frtoAllow = 0
		c.rec.spuriousRTOs++
		c.env.Stats.SpuriousUndos++
		c.cong().Undo(now)
		r.undoArmed = false
		r.state = recOpen
		r.highRetransSet = false
		return false
	}
}

// limitedTransmit is RFC 3042 §2: on the first two duplicate ACKs, one
// new segment each may go out beyond cwnd. With SACK, pipe already drops
// by the SACKed segment, which lets the same data go.
func (c *Conn) limitedTransmit() uint32 {
	if c.lossState == nil {
		return 0
	}
	r := &c.rec
	if c.sackOK || r.state != recOpen || r.dupAcks == 0 || r.dupAcks >= dupThresh {
		return 0
	}
	return uint32(r.dupAcks) * uint32(max(c.EffectiveMSS(), 1))
}

// armRACKTimer arms RFC 8985 §6.2 step 5's reordering timer.
func (c *Conn) armRACKTimer(now, wait time.Duration) {
	if wait > 0 {
		c.rackAt = now + wait
	} else {
		c.rackAt = never
	}
}

// rackTimeout is RFC 8985 §6.3: the reordering timer fired; segments
// whose window passed are now lost.
func (c *Conn) rackTimeout(now time.Duration) {
	c.rackAt = never
	marked, wait := c.rackDetectLoss(now)
	c.armRACKTimer(now, wait)
	if marked && c.rec.state == recOpen {
		c.enterRecovery(now)
	}
}

// lossState is the sender's and receiver's loss-recovery state: the SACK
// scoreboard and RFC 6675 recovery with PRR, RACK-TLP (RFC 8985), and
// D-SACK (RFC 2883) both ways.
type lossState struct {
	sb           scoreboard
	rec          recovery
	rack         rack
	tlp          tlp
	dsackOut     seqRange // duplicate text to report first (RFC 2883 §4)
	dsackPending bool
	sackSent     [4]seqRange // blocks of the last report, in order (RFC 2018 §4)
	sackSentN    int
	rackAt       time.Duration // RACK reordering timer (RFC 8985 §6.2 step 5)
	tlpAt        time.Duration // probe timeout (RFC 8985 §7.2)
}

func newLossState(iss seqnum.Value) *lossState {
	l := &lossState{}
	l.reset(iss)
	return l
}

// reset makes l fresh for a connection whose ISS is iss, keeping the
// scoreboard's array for reuse.
func (l *lossState) reset(iss seqnum.Value) {
	segs := l.sb.segs[:0]
	*l = lossState{}
	l.sb.segs = segs
	l.rec.init(iss)
	l.rack.init()
	l.rackAt, l.tlpAt = never, never
}

// loss returns the loss-recovery state, allocating it on first use: the
// first data or FIN sent (recordSent), an ACK while something is
// outstanding or with SACK blocks (processAck), or a D-SACK or SACK
// blocks to report. Until then an idle connection carries none; every
// reader treats nil as the fresh state (nothing sent, nothing lost).
func (c *Conn) loss() *lossState {
	if c.lossState == nil {
		c.lossState = newLossState(c.iss)
	}
	return c.lossState
}

// stopLossTimers stops the RACK and probe timers, if any.
func (c *Conn) stopLossTimers() {
	if l := c.lossState; l != nil {
		l.rackAt, l.tlpAt = never, never
	}
}
