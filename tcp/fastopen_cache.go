package tcp

import (
	"net/netip"
	"time"
)

// fastOpenEntry is what a client remembers of one server (RFC 7413
// §4.1.3): its cookie, its MSS, and whether SYNs with data were lost.
type fastOpenEntry struct {
	cookie    [16]byte
	cookieLen uint8
	exp       bool // the server answered in the experimental encoding
	hasCookie bool
	mss       uint16        // the server's MSS from its last SYN-ACK, 0 if unknown
	synLoss   uint8         // consecutive SYN-data timeouts (RFC 7413 §4.1.3.1)
	lossAt    time.Duration // when the last one happened
	usedAt    time.Duration // for eviction
}

// fastOpenCache is the client's per-server cache, bounded by
// Config.FastOpenCacheSize; the least recently used entry makes room.
type fastOpenCache struct {
	m map[netip.Addr]*fastOpenEntry
}

func (fc *fastOpenCache) get(a netip.Addr) *fastOpenEntry { return fc.m[a] }

// entry returns a's entry, making one (and evicting) if there is none.
func (fc *fastOpenCache) entry(now time.Duration, a netip.Addr, limit int) *fastOpenEntry {
	if e := fc.m[a]; e != nil {
		e.usedAt = now
		return e
	}
	if fc.m == nil {
		fc.m = make(map[netip.Addr]*fastOpenEntry)
	}
	if len(fc.m) >= limit {
		var oldest netip.Addr
		at := never
		for k, e := range fc.m {
			if e.usedAt < at || e.usedAt == at && k.Less(oldest) {
				oldest, at = k, e.usedAt
			}
		}
		delete(fc.m, oldest)
	}
	e := &fastOpenEntry{usedAt: now}
	fc.m[a] = e
	return e
}

// fastOpenLossBackoff is how long a destination whose SYN-data was lost
// twice in a row goes without Fast Open: 60 s doubled per loss, as Linux's
// tcp_fastopen_cookie_check does. RFC 7413 §4.1.3.1 asks the client to
// fall back to a regular handshake where SYNs with data are dropped.
func fastOpenLossBackoff(losses uint8) time.Duration {
	return 60 * time.Second << min(losses, 10)
}

// usable reports whether a cookie may be sent to this server now.
func (e *fastOpenEntry) usable(now time.Duration) bool {
	if !e.hasCookie {
		return false
	}
	return e.synLoss <= 1 || now-e.lossAt >= fastOpenLossBackoff(e.synLoss)
}
