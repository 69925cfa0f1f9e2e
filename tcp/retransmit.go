package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// recordSent notes a data segment (n octets from seq, and the FIN if fin)
// on the scoreboard, and counts it if it was a retransmission.
func (c *Conn) recordSent(now time.Duration, seq seqnum.Value, n int, fin bool) {
	end := seq.Add(seqnum.Size(n))
	if fin {
		end = end.Add(1)
	}
	retrans := seq.LessThan(c.sndMax)
	c.loss()
	c.sb.sent(seq, end, fin, now, c.sndMax)
	if retrans {
		c.env.Stats.RetransSegs++
		c.retransmitted(seq, end, uint32(n))
	} else {
		c.rec.frtoAllow -= min(uint32(n), c.rec.frtoAllow)
	}
	if c.rec.state == recFast {
		c.rec.prr.sent(uint32(seq.Size(end))) // RFC 6937 prr_out
	}
}

// usableWindow is what the windows let new data send now: the peer's
// window less what is outstanding, and cwnd less the pipe (RFC 6675 §5
// step C; plain FlightSize without SACK), plus what limited transmit
// (RFC 3042) and F-RTO (RFC 5682 §2 step 2b) allow beyond cwnd.
func (c *Conn) usableWindow(outstanding uint32) int {
	if c.sndWnd <= outstanding {
		return 0
	}
	rwnd := c.sndWnd - outstanding
	if c.lossState != nil && c.rec.frtoAllow > 0 {
		// RFC 5682 §2 step 2b: two new segments, whatever cwnd says.
		return int(min(rwnd, c.rec.frtoAllow))
	}
	cwnd := c.cong().Cwnd() + c.limitedTransmit()
	pipe := c.pipe()
	if cwnd <= pipe {
		return 0
	}
	return int(min(rwnd, cwnd-pipe))
}

// sendLost retransmits the segments deemed lost, oldest first (RFC 6675
// §4 NextSeg rule 1), while cwnd - pipe leaves room for each (§5 step
// C); the first retransmission of a recovery or timeout goes regardless.
// It reports whether it sent anything.
func (c *Conn) sendLost(now time.Duration, out *Output) bool {
	if c.lossState == nil {
		return false // nothing sent, nothing lost
	}
	sent := false
	mss := c.maxPayload(now)
	for {
		k := c.sb.nextLost()
		if k < 0 {
			break
		}
		s := c.sb.segs[k]
		fin := s.flags&segFIN != 0
		n := int(s.len())
		if fin {
			n--
		}
		if n > mss {
			n, fin = mss, false
		}
		// MUST-34 (RFC 9293 §3.8.6): nothing past the peer's window,
		// which may have shrunk since; the forced retransmission of a
		// timeout probes a closed window with one octet (§3.8.6.1).
		edge := c.sndUna.Add(seqnum.Size(c.sndWnd))
		if room := int(s.start.Size(edge)); !s.start.LessThan(edge) {
			if !c.rec.forceRetransmit {
				break
			}
			n, fin = min(n, 1), fin && n == 0
		} else if room < n+b2i(fin) {
			n, fin = min(n, room), false
		}
		if !c.rec.forceRetransmit {
			cwnd, pipe := c.cong().Cwnd(), c.pipe()
			if cwnd <= pipe || cwnd-pipe < uint32(min(n, mss)) {
				break
			}
		}
		c.rec.forceRetransmit = false
		c.timing = false // Karn: no sample from a retransmission
		got := c.emit(now, out, s.start, n, fin)
		sent = true
		if got == 0 && !fin {
			break // nothing of it left to send
		}
	}
	c.rec.forceRetransmit = false
	return sent
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
