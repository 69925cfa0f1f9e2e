package tcp

import (
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

const (
	flagFIN = wire.FlagFIN
	flagSYN = wire.FlagSYN
	flagRST = wire.FlagRST
	flagPSH = wire.FlagPSH
	flagACK = wire.FlagACK
)

// maxWindowShift is the largest window scale shift (RFC 7323 §2.3).
const maxWindowShift = 14

// mssForMTU is the MSS to advertise for an MTU: the MTU less fixed IP and
// TCP headers (RFC 9293 §3.7.1; RFC 8200 §5 for the 40-byte IPv6 header).
func mssForMTU(mtu int, ipv4 bool) uint16 {
	m := mtu - 40
	if !ipv4 {
		m = mtu - 60
	}
	return uint16(max(min(m, 65535), 88))
}

// defaultSendMSS is the send MSS when the peer sends no MSS option:
// 536 for IPv4 (RFC 9293 §3.7.1, MUST-15) and 1220 for IPv6 (RFC 8200 §5).
func defaultSendMSS(ipv4 bool) uint16 {
	if ipv4 {
		return 536
	}
	return 1220
}

// windowShiftFor is the smallest shift that lets a window of size bytes
// be advertised in 16 bits (RFC 7323 §2.2), at most 14.
func windowShiftFor(size int) uint8 {
	var s uint8
	for s < maxWindowShift && size>>s > 65535 {
		s++
	}
	return s
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

// tsVal is our timestamp clock: milliseconds plus the connection's offset
// (RFC 7323 §5.4: 1 ms to 1 s per tick).
func (c *Conn) tsVal(now time.Duration) uint32 {
	return uint32(now/time.Millisecond) + c.tsOffset
}

// dataOptions fills the options of a non-SYN segment: timestamps once
// negotiated (RFC 7323 §3.2) and SACK blocks when we hold out-of-order
// data (RFC 2018 §4).
func (c *Conn) dataOptions(o *wire.Options, now time.Duration) {
	if c.tsOK {
		o.HasTimestamps = true
		o.TSVal = c.tsVal(now)
		o.TSEcr = c.tsRecent
	}
	if c.sackOK {
		c.sackOptions(o)
	}
}

// minSendMSS is the smallest send MSS honoured (Linux tcp_min_snd_mss).
const minSendMSS = 48
