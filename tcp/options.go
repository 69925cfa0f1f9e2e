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
