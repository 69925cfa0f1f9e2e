package tcp

// Initial sequence numbers: RFC 9293 §3.4.1 (MUST-8, SHLD-1, MUST-9) and
// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), M a 4-microsecond clock, F a keyed pseudorandom function.

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// MUST-8: for one tuple the ISN follows a clock that ticks every 4 µs.
func TestISNIncreasesWith4MicrosecondClock(t *testing.T) {
	g := NewISNGenerator(testSecret)
	base := g.ISN(0, testTuple)
	for _, tc := range []struct {
		at   time.Duration
		want seqnum.Size
	}{
		{3 * time.Microsecond, 0},
		{4 * time.Microsecond, 1},
		{time.Millisecond, 250},
		{time.Second, 250000},
		{4 * time.Hour, seqnum.Size(uint32(4 * time.Hour / (4 * time.Microsecond)))}, // wraps: ~4.55 h cycle
	} {
		if got := base.Size(g.ISN(tc.at, testTuple)); got != tc.want {
			t.Fatalf("ISN at %v is base+%d, want base+%d", tc.at, got, tc.want)
		}
	}
	// Successive ISNs for one tuple increase (serially) over an MSL.
	prev := base
	for at := time.Duration(0); at < 2*time.Minute; at += 7 * time.Second {
		v := g.ISN(at, testTuple)
		if v.LessThan(prev) {
			t.Fatalf("ISN went back at %v", at)
		}
		prev = v
	}
}

// SHLD-1, MUST-9 (RFC 6528 §3): F depends on every element of the tuple
// and on the secret, so different tuples get unrelated ISNs and an
// observer without the secret cannot compute another connection's ISN.
func TestISNDiffersAcrossTuplesAndSecrets(t *testing.T) {
	g := NewISNGenerator(testSecret)
	seen := map[seqnum.Value]Tuple{}
	variants := []Tuple{testTuple, testTuple.Reverse(), testTuple6}
	for i := 0; i < 4; i++ {
		tu := testTuple
		switch i {
		case 0:
			tu.LocalPort++
		case 1:
			tu.RemotePort++
		case 2:
			tu.LocalAddr = remoteAddr
		case 3:
			tu.RemoteAddr = localAddr
		}
		variants = append(variants, tu)
	}
	for _, tu := range variants {
		v := g.ISN(time.Second, tu)
		if other, dup := seen[v]; dup {
			t.Fatalf("tuples %v and %v share ISN %v", tu, other, v)
		}
		seen[v] = tu
	}
	// The offset between tuples is not the clock: it is not small.
	d := g.ISN(0, testTuple).Size(g.ISN(0, variants[3]))
	if int32(d) < 1<<16 && int32(d) > -1<<16 {
		t.Fatalf("neighbouring tuples' ISNs only %d apart", d)
	}
	other := testSecret
	other[0] ^= 1
	h := NewISNGenerator(other)
	if g.ISN(0, testTuple) == h.ISN(0, testTuple) {
		t.Fatal("ISN does not depend on the secret")
	}
}

// Connections take their ISS from the Env's generator at the time of the
// open; a later connection on the same tuple starts further on.
func TestConnectionsUseISNGenerator(t *testing.T) {
	env := newTestEnv(testConfig())
	a := NewActive(env, testTuple, 0)
	b := NewActive(env, testTuple, 10*time.Second)
	if a.ISS() != env.ISN.ISN(0, testTuple) || b.ISS() != env.ISN.ISN(10*time.Second, testTuple) {
		t.Fatal("ISS not from the generator")
	}
	if !b.ISS().GreaterThan(a.ISS()) {
		t.Fatal("later incarnation's ISS not larger")
	}
	l := NewListener(env)
	var out Output
	seg := peerSYN
	c := l.Input(time.Second, testTuple, &seg, &out)
	if c.ISS() != env.ISN.ISN(time.Second, testTuple) {
		t.Fatal("passive ISS not from the generator")
	}
}

// The keyed function is SipHash-2-4: check it against the reference
// vectors of the SipHash paper (key 00..0f, messages 00..n-1).
func TestSipHashVectors(t *testing.T) {
	k0, k1 := uint64(0x0706050403020100), uint64(0x0f0e0d0c0b0a0908)
	want := []uint64{0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d}
	msg := []byte{}
	for i, w := range want {
		if got := sipHash24(k0, k1, msg); got != w {
			t.Fatalf("len %d: %#x, want %#x", i, got, w)
		}
		msg = append(msg, byte(i))
	}
	m15 := make([]byte, 15)
	for i := range m15 {
		m15[i] = byte(i)
	}
	if got := sipHash24(k0, k1, m15); got != 0xa129ca6149be45e5 {
		t.Fatalf("len 15: %#x", got)
	}
}
