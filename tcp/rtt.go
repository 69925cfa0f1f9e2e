package tcp

import "time"

// Round-trip time measurement and the retransmission timeout.
//
// With timestamps (RFC 7323 §4) every ACK of new data gives a sample,
// TSval clock now minus its TSecr, so retransmissions cannot confuse it
// (RTTM). Without them one segment at a time is timed and retransmitted
// data is never sampled (Karn's rule, RFC 6298 §3); the timed segment's
// sample, exact to the clock, is used with timestamps too. Samples feed RFC
// 6298 §2's estimator; the RTO is clamped to [MinRTO, MaxRTO], MinRTO
// 200 ms by default, as Linux and gVisor (RFC 8961 leaves the floor to
// implementations; see docs/CONFORMANCE.md).

// ackRTT returns the RTT sample of an ACK that acknowledged new data, 0
// if it gives none, and feeds it to the RTO estimator. An ACK covering
// the one timed segment gives its exact time (Karn's rule keeps that
// unambiguous); otherwise, with timestamps, TSecr gives the RTT in 1 ms
// ticks, and less than a tick is no sample (it would read as 0 on a fast
// path whose real RTT is anywhere below 1 ms).
func (c *Conn) ackRTT(now time.Duration, seg *Segment) time.Duration {
	var r time.Duration
	if c.timing && seg.Ack.GreaterThanEq(c.timedSeq) {
		c.timing = false
		r = now - c.timedAt
	} else if c.tsOK && seg.Options.HasTimestamps && seg.Options.TSEcr != 0 {
		// RFC 7323 §4.2: TSecr of an ACK of new data echoes the
		// segment that caused it, and the serial difference is the
		// RTT in ticks of our 1 ms clock. A TSecr from the future or
		// older than MaxRTO is not an echo of ours.
		d := c.tsVal(now) - seg.Options.TSEcr
		if int32(d) > 0 && time.Duration(d)*time.Millisecond <= c.env.Config.MaxRTO {
			r = time.Duration(d) * time.Millisecond
		}
	}
	if r > 0 {
		c.rttSample(r)
	}
	return r
}

// rttSample updates SRTT, RTTVAR and RTO from a measurement
// (RFC 6298 §2.2 and §2.3, with G = 1 ms).
func (c *Conn) rttSample(r time.Duration) {
	r = max(r, time.Microsecond)
	if c.srtt == 0 {
		c.srtt = r
		c.rttvar = r / 2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	rto := c.srtt + max(time.Millisecond, 4*c.rttvar)
	c.rto = min(max(rto, c.env.Config.MinRTO), c.env.Config.MaxRTO)
}

// RTT returns the smoothed round-trip time and the current RTO.
func (c *Conn) RTT() (srtt, rto time.Duration) { return c.srtt, c.rto }
