package tcp

import (
	"encoding/binary"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full (or
// always, by configuration) it answers a SYN with a SYN-ACK whose ISN
// encodes everything needed to build the connection when the final ACK
// returns, and keeps no state.
//
// The cookie, our ISS:
//
//	bits 31..27  the coarse counter (now / CookieTick) modulo 32
//	bits 26..24  index into cookieMSS of the MSS we will use
//	bits 23..0   a keyed hash of the 4-tuple, the peer's ISN, the full
//	             counter, the MSS index and the option bits below
//
// When the peer offered timestamps, the low cookieOptBits bits of our
// TSval carry the other options (window scale shift, SACK-permitted, and a
// spare bit for ECN); the peer echoes them in TSecr. The hash covers them,
// so neither the cookie nor the options can be forged or altered. Without
// timestamps only the MSS survives.

// CookieMode says when a listener uses SYN cookies.
type CookieMode uint8

// Cookie modes.
const (
	CookiesWhenFull CookieMode = iota // when the SYN queue is full (default)
	CookiesAlways                     // for every SYN: no half-open state at all
	CookiesOff                        // never: a full SYN queue drops SYNs
)

// CookieTick is the granularity of the cookie counter; a cookie is valid
// for the current and the two previous ticks (two to three minutes).
const CookieTick = 64 * time.Second

const (
	cookieOptBits  = 6
	cookieOptMask  = 1<<cookieOptBits - 1
	cookieNoWScale = 0xf // window scale field value: not offered
	cookieSACK     = 1 << 4
	cookieHashMask = 1<<24 - 1
)

// cookieMSS are the MSS values a cookie can carry: the largest one not
// above the peer's MSS is used.
var cookieMSS = [8]uint16{536, 1220, 1300, 1400, 1440, 1452, 1460, 8960}

func cookieMSSIndex(peer uint16) uint32 {
	i := 0
	for i+1 < len(cookieMSS) && cookieMSS[i+1] <= peer {
		i++
	}
	return uint32(i)
}

// cookieHash is the keyed hash of a cookie's contents.
func (e *Env) cookieHash(t Tuple, peerISN seqnum.Value, counter uint32, mssIdx uint32, opts uint32) uint32 {
	var b [48]byte
	la, ra := t.LocalAddr.As16(), t.RemoteAddr.As16()
	copy(b[0:16], la[:])
	copy(b[16:32], ra[:])
	binary.BigEndian.PutUint16(b[32:], t.LocalPort)
	binary.BigEndian.PutUint16(b[34:], t.RemotePort)
	binary.BigEndian.PutUint32(b[36:], uint32(peerISN))
	binary.BigEndian.PutUint32(b[40:], counter)
	b[44] = byte(mssIdx)
	b[45] = byte(opts)
	b[46] = 'c'
	return uint32(e.ISN.Hash(b[:])) & cookieHashMask
}

// cookieOptions packs the options a SYN offered that we will honour.
func (e *Env) cookieOptions(syn *wire.Options) uint32 {
	opts := uint32(cookieNoWScale)
	if syn.HasWScale && !e.Config.NoWindowScaling {
		opts = uint32(min(syn.WScale, maxWindowShift))
	}
	if syn.SACKPermitted && !e.Config.NoSACK {
		opts |= cookieSACK
	}
	return opts
}

// makeCookie returns the cookie ISS for a SYN at now, and the option bits.
func (e *Env) makeCookie(now time.Duration, t Tuple, syn *Segment) (seqnum.Value, uint32) {
	counter := uint32(now / CookieTick)
	mssIdx := cookieMSSIndex(syn.Options.MSS)
	if !syn.Options.HasMSS {
		mssIdx = cookieMSSIndex(defaultSendMSS(t.LocalAddr.Is4()))
	}
	opts := uint32(cookieOptMask) // no timestamps: options lost
	if syn.Options.HasTimestamps && !e.Config.NoTimestamps {
		opts = e.cookieOptions(&syn.Options)
	}
	h := e.cookieHash(t, syn.Seq, counter, mssIdx, opts)
	return seqnum.Value(counter%32<<27 | mssIdx<<24 | h), opts
}

// cookieTSVal returns our timestamp clock at now with its low bits
// replaced by opts, never ahead of the clock (so later segments do not
// look older to the peer's PAWS check).
func cookieTSVal(clock uint32, opts uint32) uint32 {
	ts := clock&^cookieOptMask | opts
	if ts > clock {
		ts -= 1 << cookieOptBits
	}
	return ts
}

// cookieParams is what a valid cookie tells about the connection.
type cookieParams struct {
	mss    uint16
	opts   uint32
	hasTS  bool
	wscale int // -1: no window scaling
	sack   bool
}

// checkCookie validates the ACK that should complete a cookie handshake
// (ACK = cookie + 1) and decodes its parameters.
func (e *Env) checkCookie(now time.Duration, t Tuple, ack *Segment) (cookieParams, bool) {
	cookie := uint32(ack.Ack - 1)
	peerISN := ack.Seq - 1
	mssIdx := cookie >> 24 & 7
	opts := uint32(cookieOptMask)
	hasTS := ack.Options.HasTimestamps && !e.Config.NoTimestamps
	if hasTS {
		opts = ack.Options.TSEcr & cookieOptMask
	}
	nowCounter := uint32(now / CookieTick)
	for age := uint32(0); age <= 2 && age <= nowCounter; age++ {
		counter := nowCounter - age
		if counter%32 != cookie>>27 {
			continue
		}
		if e.cookieHash(t, peerISN, counter, mssIdx, opts) != cookie&cookieHashMask {
			return cookieParams{}, false
		}
		// The "no timestamps" marker: our SYN-ACK offered none, so a
		// timestamp on this ACK enables nothing (RFC 7323 §3.2).
		if opts == cookieOptMask {
			hasTS = false
		}
		p := cookieParams{mss: cookieMSS[mssIdx], opts: opts, hasTS: hasTS, wscale: -1}
		if hasTS {
			if ws := opts & 0xf; ws != cookieNoWScale {
				p.wscale = int(ws)
			}
			p.sack = opts&cookieSACK != 0
		}
		return p, true
	}
	return cookieParams{}, false
}
