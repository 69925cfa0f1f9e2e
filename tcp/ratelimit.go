package tcp

import "time"

// Answers to invalid segments (RFC 5961 §7, RFC 9293 §3.10.7.4): the
// challenge ACKs of RFC 5961 §§3-5, the ACK for an unacceptable
// segment, the ACK for a PAWS reject and the RST for a SYN-RECEIVED
// child's unacceptable ACK. Each connection answers at most one such
// segment per Config.InvalidRateLimit (Linux tcp_invalid_ratelimit).
//
// The budget is the connection's own and nothing else's: there is no
// host-wide counter, because one shared by every connection is the side
// channel of CVE-2016-5696 (an attacker that spends it on a connection
// of its own learns from the answers it gets back whether its guesses
// at someone else's connection drew answers). Amplification stays
// bounded: every answer costs the attacker a packet, and a connection
// answers at most once an interval however many it sends.

// answerKind is what an answer to an invalid segment is for; it picks
// the counter and drop reason of an answer suppressed by the limit.
type answerKind uint8

const (
	answerChallenge answerKind = iota // RFC 5961 §3.2, §4.2, §5.2
	answerSeq                         // RFC 9293 §3.10.7.4 first check: unacceptable segment
	answerPAWS                        // RFC 7323 §5.3 R1: PAWS reject
	answerBadAck                      // RFC 9293 §3.5.2: SYN-RECEIVED, unacceptable ACK; answered with a RST
)

// answerBudget is one connection's allowance of answers. The zero value
// has its first answer available.
type answerBudget struct {
	last time.Duration // when the last answer went out
	used bool          // last is set
}

// allow reports whether an answer may go at now, and spends it if so.
// A clock that went backwards refills the budget rather than stalling it.
func (b *answerBudget) allow(now, interval time.Duration) bool {
	if b.used && now >= b.last && now-b.last < interval {
		return false
	}
	b.last, b.used = now, true
	return true
}

// answerBudgets are a connection's two budgets. probe is reserved for the
// segment a live peer sends when its ACK was lost or it checks on an idle
// connection: one at exactly RCV.NXT-1 carrying at most one octet or a
// FIN (a keep-alive probe, RFC 9293 §3.8.4; a FIN retransmitted into
// TIME-WAIT). An off-path attacker can reach it only by guessing the
// sequence number exactly, which would already let it reset the
// connection; so a flood of guesses, however fast, does not silence the
// answers a keep-alive needs to keep the connection up.
type answerBudgets struct {
	other, probe answerBudget
}

// isProbe reports whether seg has the shape of a keep-alive probe or a
// retransmitted FIN just left of the window.
func (c *Conn) isProbe(seg *Segment) bool {
	return !seg.has(flagSYN) && !seg.has(flagRST) && seg.Seq == c.rcvNxt.Sub(1) && len(seg.Payload) <= 1
}

// mayAnswer spends the connection's budget for an answer to seg, or counts
// the answer skipped and drops seg under the matching reason.
func (c *Conn) mayAnswer(now time.Duration, seg *Segment, k answerKind) bool {
	b := &c.answers.other
	if k != answerBadAck && c.isProbe(seg) {
		b = &c.answers.probe
	}
	if b.allow(now, c.env.Config.InvalidRateLimit) {
		return true
	}
	st := &c.env.Stats
	// Like Linux, the state names the counter first (TCPACKSkippedSynRecv,
	// TCPACKSkippedTimeWait), then the kind of answer.
	switch {
	case c.state == SynReceived:
		st.ACKSkippedSynRecv++
		c.drop(seg, DropSynRecvAnswerLimited)
	case c.state == TimeWait:
		st.ACKSkippedTimeWait++
		c.drop(seg, DropTimeWaitAckLimited)
	case k == answerChallenge:
		st.ACKSkippedChallenge++
		c.drop(seg, DropChallengeAckLimited)
	case k == answerPAWS:
		st.ACKSkippedPAWS++
		c.drop(seg, DropPAWSAckLimited)
	default:
		st.ACKSkippedSeq++
		c.drop(seg, DropOutOfWindowAckLimited)
	}
	return false
}

// answerInvalid drops seg for reason r and, within the budget, sends
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
func (c *Conn) answerInvalid(now time.Duration, seg *Segment, out *Output, k answerKind, r DropReason) {
	if !c.mayAnswer(now, seg, k) {
		return
	}
	if k == answerChallenge {
		c.env.Stats.ChallengeAcks++
	}
	c.drop(seg, r)
	c.sendAck(now, out)
}
