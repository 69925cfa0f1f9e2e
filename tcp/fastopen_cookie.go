package tcp

import (
	"encoding/binary"
	"time"
)

// fastOpenCookieLen is the size of the cookies a Fast Open server hands
// out: 8 bytes, the length Linux uses (RFC 7413 §4.1.1 allows 4 to 16).
const fastOpenCookieLen = 8

// fastOpenKeys derives the server's cookie keys. RFC 7413 §4.1.2: the
// cookie is a MAC of the client's IP address under a secret the server
// changes regularly, keeping the previous one valid for a while. Each
// period's key is derived from the stack's secret and the period number,
// so rotation needs no state beyond a cache of the two keys in use.
type fastOpenKeys struct {
	period  uint64 // the period cur belongs to; valid once set
	set     bool
	cur     [2]uint64
	prev    [2]uint64
	userKey bool // keys set by SetFastOpenKey: no rotation
}

// keyFor derives the SipHash key of one period.
func (e *Env) fastOpenKeyFor(period uint64) [2]uint64 {
	var b [17]byte
	copy(b[:8], "tfo-key\x00")
	binary.LittleEndian.PutUint64(b[8:16], period)
	b[16] = 0
	k0 := e.ISN.Hash(b[:])
	b[16] = 1
	return [2]uint64{k0, e.ISN.Hash(b[:])}
}

// fastOpenKeysAt returns the current and previous keys at now.
func (e *Env) fastOpenKeysAt(now time.Duration) (cur, prev [2]uint64) {
	k := &e.fastOpenKeys
	if k.userKey {
		return k.cur, k.prev
	}
	p := uint64(now / e.Config.FastOpenKeyPeriod)
	if !k.set || k.period != p {
		switch {
		case k.set && k.period+1 == p:
			k.prev = k.cur
		default:
			k.prev = e.fastOpenKeyFor(p - 1)
		}
		k.cur = e.fastOpenKeyFor(p)
		k.period, k.set = p, true
	}
	return k.cur, k.prev
}

// SetFastOpenKey replaces the derived, rotating keys with a fixed primary
// key and a backup that still validates cookies (Linux's TCP_FASTOPEN_KEY
// and sysctl tcp_fastopen_key, whose "a1a1a1a1-b2b2b2b2-..." words are the
// key's bytes as little-endian 32-bit words), for servers behind one
// address that must share cookies, Linux servers included.
func (e *Env) SetFastOpenKey(primary, backup [16]byte) {
	k := &e.fastOpenKeys
	k.userKey = true
	k.cur = [2]uint64{binary.LittleEndian.Uint64(primary[:8]), binary.LittleEndian.Uint64(primary[8:])}
	k.prev = [2]uint64{binary.LittleEndian.Uint64(backup[:8]), binary.LittleEndian.Uint64(backup[8:])}
}

// fastOpenMAC is the cookie for the connection's two addresses under key:
// SipHash-2-4 of the client's address then the server's (4 bytes each for
// IPv4, 16 for IPv6), written little-endian. That is exactly Linux's
// cookie (net/ipv4/tcp_fastopen.c), so a threeway server given the same
// key as Linux servers (SetFastOpenKey, sysctl tcp_fastopen_key) accepts
// their cookies and hands out the same ones. RFC 7413 §4.1.2 asks for a
// MAC of at least the client's address.
func fastOpenMAC(key [2]uint64, t Tuple) [fastOpenCookieLen]byte {
	var b [32]byte
	var msg []byte
	if t.RemoteAddr.Is4() {
		ra, la := t.RemoteAddr.As4(), t.LocalAddr.As4()
		msg = append(append(b[:0], ra[:]...), la[:]...)
	} else {
		ra, la := t.RemoteAddr.As16(), t.LocalAddr.As16()
		msg = append(append(b[:0], ra[:]...), la[:]...)
	}
	var c [fastOpenCookieLen]byte
	binary.LittleEndian.PutUint64(c[:], sipHash24(key[0], key[1], msg))
	return c
}

// fastOpenCookie is the cookie a SYN-ACK hands the client of t.
func (e *Env) fastOpenCookie(now time.Duration, t Tuple) [fastOpenCookieLen]byte {
	cur, _ := e.fastOpenKeysAt(now)
	return fastOpenMAC(cur, t)
}

// fastOpenCookieValid checks a cookie against the current and the
// previous key (RFC 7413 §4.1.2, IsCookieValid).
func (e *Env) fastOpenCookieValid(now time.Duration, t Tuple, cookie []byte) bool {
	if len(cookie) != fastOpenCookieLen {
		return false
	}
	cur, prev := e.fastOpenKeysAt(now)
	want := fastOpenMAC(cur, t)
	if constantTimeEqual(cookie, want[:]) {
		return true
	}
	want = fastOpenMAC(prev, t)
	return constantTimeEqual(cookie, want[:])
}

// fastOpenCookieCurrent reports whether cookie is the one the current key
// gives: a valid cookie that is not was made under the previous key.
func (e *Env) fastOpenCookieCurrent(now time.Duration, t Tuple, cookie []byte) bool {
	want := e.fastOpenCookie(now, t)
	return constantTimeEqual(cookie, want[:])
}

// constantTimeEqual compares without an early exit, so the time taken
// does not tell an attacker how many leading bytes of a guess were right.
func constantTimeEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
