package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// Fast Open (RFC 7413) rule tests. The client side runs against a
// scripted server on testTuple; the server side is a listener with a Fast
// Open queue fed scripted SYNs. Options other than MSS and FO are off
// (testConfig), so each segment reads plainly.

var serverCookie = []byte{0xab, 0xcd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}

// foOpts is an options value with an MSS and a Fast Open option carrying
// cookie (a request when empty).
func foOpts(mss uint16, cookie []byte) wire.Options {
	o := mssOpt(mss)
	o.SetFastOpen(cookie, false)
	return o
}

// fastOpenClient is an active Fast Open connect on env whose SYN has not
// gone out yet; port picks the tuple's local port.
func fastOpenClient(t *testing.T, env *Env, port uint16, now time.Duration) *testConn {
	t.Helper()
	tu := testTuple
	tu.LocalPort = port
	c := &testConn{Conn: NewActive(env, tu, now), now: now}
	if !c.EnableFastOpen(now) {
		t.Fatal("EnableFastOpen refused before the SYN")
	}
	return c
}

// warmCache runs one Fast Open connect on env that asks for a cookie and
// gets serverCookie with MSS mss back.
func warmCache(t *testing.T, env *Env, mss uint16) {
	t.Helper()
	c := fastOpenClient(t, env, 40000, 0)
	syn := recv(t, c) // no cookie cached: the SYN goes at once
	expect(t, syn, Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, nil)})
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: foOpts(mss, serverCookie)})
	expectState(t, c, Established)
}

// Without a cookie no data could ride in the SYN, so the connect does not
// wait for a write: the SYN asks for a cookie at once (RFC 7413 §4.1.1,
// §4.2.1 step 1), as Linux's TCP_FASTOPEN_CONNECT does.
func TestFastOpenConnectWithoutCookieAsksAtOnce(t *testing.T) {
	env := newTestEnv(testConfig())
	c := fastOpenClient(t, env, 40001, 0)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, nil)})
	if env.Stats.FastOpenCookieReqSent != 1 || env.Stats.FastOpenActive != 0 {
		t.Fatalf("stats %+v", env.Stats)
	}
	if c.EnableFastOpen(c.now) {
		t.Fatal("EnableFastOpen accepted after the SYN went out")
	}
}

// With a cookie cached the SYN waits for the first write, whose data it
// carries; a write that never comes lets it go after the connect delay.
func TestFastOpenConnectWaitsForFirstWrite(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	start := time.Second
	c := fastOpenClient(t, env, 40011, start)
	expect(t, recv(t, c)) // no SYN before there is data
	if c.Deadline() != start+env.Config.FastOpenConnectDelay {
		t.Fatalf("deadline %v, want the connect delay", c.Deadline())
	}
	req := []byte("GET / HTTP/1.0\r\n\r\n")
	c.Write(req)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie), Payload: req})

	quiet := fastOpenClient(t, env, 40012, start)
	quiet.now = start + env.Config.FastOpenConnectDelay
	// Nothing written: a cookie alone would gain nothing, so a plain SYN.
	expect(t, recv(t, quiet), Segment{Seq: quiet.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)})
}

// WriteSyn is Linux's sendto(MSG_FASTOPEN): the waiting SYN goes at once
// with as much of the data as it can carry (the cached MSS less 40
// bytes), and nothing else of it is queued.
func TestFastOpenWriteSynTakesWhatFits(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, 1000)
	c := fastOpenClient(t, env, 40013, time.Second)
	if !c.Info().SynDeferred {
		t.Fatal("Info().SynDeferred false while the SYN waits")
	}
	n, ok := c.WriteSyn(c.now, pattern(0, 3000))
	if !ok || n != 960 || c.SendQueued() != 960 {
		t.Fatalf("WriteSyn = %d, %v; queued %d; want 960 of 3000", n, ok, c.SendQueued())
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie), Payload: pattern(0, 960)})
	if c.Info().SynDeferred {
		t.Fatal("Info().SynDeferred true after the SYN went")
	}
	if n, ok := c.WriteSyn(c.now, pattern(0, 10)); ok || n != 0 {
		t.Fatalf("second WriteSyn = %d, %v; want nothing done", n, ok)
	}
}

// With nothing to carry WriteSyn still sends the cookie, as Linux's
// sendto(MSG_FASTOPEN) of 0 bytes does; without a cookie cached no SYN
// waits, so there is nothing for it to do.
func TestFastOpenWriteSynEmptyAndWithoutCookie(t *testing.T) {
	env := newTestEnv(testConfig())
	fresh := fastOpenClient(t, env, 40014, 0)
	if n, ok := fresh.WriteSyn(fresh.now, pattern(0, 10)); ok || n != 0 {
		t.Fatalf("WriteSyn without a cookie = %d, %v; want nothing done", n, ok)
	}
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40015, time.Second)
	if n, ok := c.WriteSyn(c.now, nil); !ok || n != 0 {
		t.Fatalf("WriteSyn(nil) = %d, %v", n, ok)
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie)})
}

func TestFastOpenCookieFromSynAckIsCachedWithMSS(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, 1000)
	c := fastOpenClient(t, env, 40002, time.Second)
	c.Write(pattern(0, 3000))
	// The cached cookie rides with as much data as the server's cached
	// MSS allows, less the 40 bytes Linux reserves for options.
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie), Payload: pattern(0, 960)})
	if env.Stats.FastOpenActive != 1 {
		t.Fatalf("FastOpenActive %d", env.Stats.FastOpenActive)
	}
}

func TestFastOpenSynDataAcknowledged(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40003, time.Second)
	req := []byte("GET / HTTP/1.0\r\n\r\n")
	c.Write(req)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie), Payload: req})
	c.now += 20 * time.Millisecond
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1 + len(req)), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expectState(t, c, Established)
	// Only the handshake's ACK: the data needs no second sending.
	expect(t, recv(t, c), Segment{Seq: c.lseq(1 + len(req)), Ack: rseq(1), Flags: flagACK, Window: testBuf})
	if !c.SynDataAcked() || c.SendQueued() != 0 {
		t.Fatalf("SynDataAcked %v, queued %d", c.SynDataAcked(), c.SendQueued())
	}
}

func TestFastOpenSynDataNotAcknowledgedIsSentAgain(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40004, time.Second)
	data := pattern(0, 700)
	c.Write(data)
	recv(t, c)
	// The server took the SYN only (its cookie check failed, or it does
	// not do Fast Open): the data goes again at once, carrying the ACK.
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: data})
	if c.SynDataAcked() || env.Stats.FastOpenActiveFail != 1 {
		t.Fatalf("SynDataAcked %v, ActiveFail %d", c.SynDataAcked(), env.Stats.FastOpenActiveFail)
	}
}

func TestFastOpenSynDataPartlyAcknowledged(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40005, time.Second)
	data := pattern(0, 1000)
	c.Write(data)
	recv(t, c)
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1 + 400), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(401), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: data[400:]})
}

func TestFastOpenSynTimeoutSendsPlainSyn(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40006, time.Second)
	data := pattern(0, 500)
	c.Write(data)
	recv(t, c)
	c.now += time.Second
	// RFC 7413 §4.1.3.1: the path may drop SYNs with data or options, so
	// the retransmission is a plain SYN, as Linux sends it.
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)})
	if env.Stats.FastOpenActiveFail != 1 {
		t.Fatalf("FastOpenActiveFail %d", env.Stats.FastOpenActiveFail)
	}
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: data})
}

func TestFastOpenRepeatedSynDataLossFallsBack(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	now := time.Second
	for i := 0; i < 2; i++ {
		c := fastOpenClient(t, env, uint16(40010+i), now)
		c.Write([]byte("x"))
		if got := recv(t, c); len(got) != 1 || len(got[0].Payload) != 1 {
			t.Fatalf("attempt %d: %v", i, got)
		}
		c.now += time.Second
		recv(t, c)
		now = c.now
	}
	// Two SYN-data losses in a row: no Fast Open to this server for 60 s
	// doubled per loss (Linux's rule), then it is tried again.
	c := fastOpenClient(t, env, 40020, now)
	c.Write([]byte("x"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)})
	if env.Stats.FastOpenBlackhole != 1 {
		t.Fatalf("FastOpenBlackhole %d", env.Stats.FastOpenBlackhole)
	}
	c = fastOpenClient(t, env, 40021, now+fastOpenLossBackoff(2))
	c.Write([]byte("x"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: foOpts(testMSS, serverCookie), Payload: []byte("x")})
}

func TestFastOpenCacheEvictsLeastRecentlyUsed(t *testing.T) {
	cfg := testConfig()
	cfg.FastOpenCacheSize = 2
	env := newTestEnv(cfg)
	fc := &env.fastOpenCache
	a, b, d := remoteAddr, localAddr6, remoteAddr6
	fc.entry(1, a, 2).hasCookie = true
	fc.entry(2, b, 2)
	fc.entry(3, a, 2) // a used again
	fc.entry(4, d, 2) // evicts b
	if fc.get(b) != nil || fc.get(a) == nil || fc.get(d) == nil || len(fc.m) != 2 {
		t.Fatalf("cache after eviction: %v", fc.m)
	}
}

// ---------------------------------------------------------------------
// Server.

// cookieSyn is the peer's SYN with a valid cookie for testTuple and data.
func cookieSyn(env *Env, data []byte) Segment {
	ck := env.fastOpenCookie(0, testTuple)
	seg := peerSYN
	seg.Options = foOpts(remoteMSS, ck[:])
	seg.Payload = data
	return seg
}

func fastOpenListener(t *testing.T) (*Listener, *Env) {
	l, env := listener(t)
	l.FastOpenQueue = 4
	return l, env
}

func TestFastOpenServerAnswersCookieRequest(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := peerSYN
	seg.Options = foOpts(remoteMSS, nil)
	seg.Payload = []byte("early")
	c := accept(t, l, env, 0, seg)
	ck := env.fastOpenCookie(0, testTuple)
	// The SYN-ACK carries a fresh cookie and acknowledges only the SYN:
	// without a cookie the data waits for the handshake (RFC 7413 §4.2.2).
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: foOpts(testMSS, ck[:])})
	if env.Stats.FastOpenCookieReqd != 1 || l.Accept() != nil {
		t.Fatalf("CookieReqd %d; acceptable before the handshake", env.Stats.FastOpenCookieReqd)
	}
}

func TestFastOpenServerValidCookieDeliversDataBeforeHandshake(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := cookieSyn(env, []byte("hello"))
	c := accept(t, l, env, 0, seg)
	// The SYN-ACK acknowledges the data and carries no cookie.
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(6), Flags: flagSYN | flagACK, Window: testBuf - 5, Options: mssOpt(testMSS)})
	expectState(t, c, SynReceived)
	if got := l.Accept(); got != c.Conn {
		t.Fatal("a Fast Open child is not acceptable in SYN-RECEIVED")
	}
	if c.TakeEvents()&(EvReadable|EvAcceptable) != EvReadable|EvAcceptable {
		t.Fatal("no readable/acceptable events")
	}
	buf := make([]byte, 16)
	if n, _ := c.Read(buf); string(buf[:n]) != "hello" || !c.SynDataAcked() {
		t.Fatalf("read %q, SynDataAcked %v", buf[:n], c.SynDataAcked())
	}
	// The server may answer before the client's final ACK.
	c.Write([]byte("world"))
	// The window edge stays put: 5 bytes freed is below the SWS step.
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(6), Flags: flagACK | flagPSH, Window: testBuf - 5, Payload: []byte("world")})
	send(t, c, Segment{Seq: rseq(6), Ack: c.lseq(6), Flags: flagACK, Window: remoteWin})
	expectState(t, c, Established)
	if c.SendQueued() != 0 || l.Accept() != nil || l.fastOpenPending != 0 {
		t.Fatalf("queued %d, pending %d", c.SendQueued(), l.fastOpenPending)
	}
	if env.Stats.FastOpenPassive != 1 {
		t.Fatalf("FastOpenPassive %d", env.Stats.FastOpenPassive)
	}
}

func TestFastOpenServerInvalidCookieFallsBack(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := peerSYN
	seg.Options = foOpts(remoteMSS, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	seg.Payload = []byte("forged")
	before := env.Stats
	c := accept(t, l, env, 0, seg)
	ck := env.fastOpenCookie(0, testTuple)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: foOpts(testMSS, ck[:])})
	expectDrop(t, env, before, DropFastOpenBadCookie, 1)
	if env.Stats.FastOpenPassiveFail != 1 || l.Accept() != nil {
		t.Fatal("an invalid cookie was accepted")
	}
}

func TestFastOpenServerMalformedCookieIgnored(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := peerSYN
	seg.Options = mssOpt(remoteMSS)
	// A 3-byte cookie: RFC 7413 §4.1.1 says to ignore the option.
	if err := wire.ParseOptions([]byte{34, 5, 1, 2, 3, 1, 1, 1}, &seg.Options); err != nil {
		t.Fatal(err)
	}
	seg.Options.HasMSS, seg.Options.MSS = true, remoteMSS
	c := accept(t, l, env, 0, seg)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)})
	if env.Stats.FastOpenPassiveFail != 1 {
		t.Fatalf("FastOpenPassiveFail %d", env.Stats.FastOpenPassiveFail)
	}
}

func TestFastOpenServerQueueBound(t *testing.T) {
	l, env := fastOpenListener(t)
	l.FastOpenQueue = 1
	var kids []*Conn
	for i := 0; i < 2; i++ {
		tu := testTuple
		tu.RemotePort += uint16(i)
		ck := env.fastOpenCookie(0, tu)
		seg := peerSYN
		seg.Options = foOpts(remoteMSS, ck[:])
		seg.Payload = []byte("data")
		var out Output
		kids = append(kids, l.Input(0, tu, &seg, &out))
		kids[i].Poll(0, &out)
		want := rseq(5)
		if i == 1 {
			want = rseq(1) // over the bound: a regular handshake
		}
		if got := out.Segs[0].Seg.Ack; got != want {
			t.Fatalf("SYN %d acked %v, want %v", i, got, want)
		}
	}
	if env.Stats.FastOpenListenOverflow != 1 || env.Stats.FastOpenPassive != 1 {
		t.Fatalf("overflow %d passive %d", env.Stats.FastOpenListenOverflow, env.Stats.FastOpenPassive)
	}
	// The first child's handshake completes: its place is free again.
	var out Output
	kids[0].Input(0, &Segment{Seq: rseq(5), Ack: kids[0].ISS().Add(1), Flags: flagACK, Window: remoteWin}, &out)
	if l.fastOpenPending != 0 {
		t.Fatalf("pending %d after the handshake", l.fastOpenPending)
	}
}

func TestFastOpenServerOffWithoutQueue(t *testing.T) {
	l, env := listener(t) // no FastOpenQueue
	seg := cookieSyn(env, []byte("hi"))
	c := accept(t, l, env, 0, seg)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf, Options: mssOpt(testMSS)})
}

func TestFastOpenServerOffUnderSynCookies(t *testing.T) {
	l, env := fastOpenListener(t)
	env.Config.SynCookies = CookiesAlways
	seg := cookieSyn(env, []byte("hi"))
	var out Output
	if l.Input(0, testTuple, &seg, &out) != nil {
		t.Fatal("a child under SYN cookies")
	}
	s := out.Segs[0].Seg
	if s.Ack != rseq(1) || s.Options.HasFastOpen || env.Stats.FastOpenPassive != 0 {
		t.Fatalf("cookie SYN-ACK %s", fmtSeg(&s))
	}
}

func TestFastOpenServerRetransmittedSynDoesNotRepeatData(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := cookieSyn(env, []byte("hello"))
	c := accept(t, l, env, 0, seg)
	recv(t, c)
	// The SYN-ACK was lost and the client sent its SYN with data again:
	// the same SYN-ACK answers, and the data is not read twice.
	c.now = 500 * time.Millisecond
	send(t, c, seg)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(6), Flags: flagSYN | flagACK, Window: testBuf - 5, Options: mssOpt(testMSS)})
	if c.Readable() != 5 {
		t.Fatalf("readable %d", c.Readable())
	}
	// And its own timer resends the SYN-ACK, still acknowledging the data.
	c.now = 2 * time.Second
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(6), Flags: flagSYN | flagACK, Window: testBuf - 5, Options: mssOpt(testMSS)})
}

func TestFastOpenExperimentalEncodingAnsweredInKind(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := peerSYN
	seg.Options = mssOpt(remoteMSS)
	seg.Options.SetFastOpen(nil, true)
	c := accept(t, l, env, 0, seg)
	got := recv(t, c)
	if len(got) != 1 || !got[0].Options.HasFastOpen || !got[0].Options.FastOpenExp || got[0].Options.FastOpenLen != fastOpenCookieLen {
		t.Fatalf("SYN-ACK %v", got)
	}
}

func TestFastOpenKeyRotationKeepsPreviousKey(t *testing.T) {
	env := newTestEnv(testConfig())
	p := env.Config.FastOpenKeyPeriod
	ck := env.fastOpenCookie(p/2, testTuple)
	if !env.fastOpenCookieValid(p/2, testTuple, ck[:]) {
		t.Fatal("a fresh cookie is invalid")
	}
	if !env.fastOpenCookieValid(p+p/2, testTuple, ck[:]) {
		t.Fatal("the previous period's cookie is invalid")
	}
	if env.fastOpenCookieValid(2*p+p/2, testTuple, ck[:]) {
		t.Fatal("a cookie two periods old is still valid")
	}
	other := testTuple
	other.RemoteAddr = localAddr
	if env.fastOpenCookieValid(p/2, other, ck[:]) {
		t.Fatal("a cookie is valid for another client address")
	}
	if later := env.fastOpenCookie(2*p, testTuple); bytes.Equal(ck[:], later[:]) {
		t.Fatal("the key did not rotate")
	}
	var k1, k2 [16]byte
	k1[0], k2[0] = 1, 2
	env.SetFastOpenKey(k1, k2)
	a := env.fastOpenCookie(0, testTuple)
	env.SetFastOpenKey(k2, k1)
	if !env.fastOpenCookieValid(0, testTuple, a[:]) {
		t.Fatal("the backup key does not validate")
	}
}

// The cookie is Linux's: packetdrill's Fast Open scripts, run with the
// key their defaults.sh sets (tcp_fastopen_key=a1a1a1a1-b2b2b2b2-
// c3c3c3c3-d4d4d4d4) from 192.0.2.1 to 192.168.0.1, expect 3021b9d889017eeb.
func TestFastOpenCookieIsLinuxs(t *testing.T) {
	env := newTestEnv(testConfig())
	key := [16]byte{0xa1, 0xa1, 0xa1, 0xa1, 0xb2, 0xb2, 0xb2, 0xb2, 0xc3, 0xc3, 0xc3, 0xc3, 0xd4, 0xd4, 0xd4, 0xd4}
	env.SetFastOpenKey(key, key)
	tu := Tuple{LocalAddr: netip.MustParseAddr("192.168.0.1"), RemoteAddr: netip.MustParseAddr("192.0.2.1"), LocalPort: 8080, RemotePort: 40000}
	want := []byte{0x30, 0x21, 0xb9, 0xd8, 0x89, 0x01, 0x7e, 0xeb}
	if got := env.fastOpenCookie(0, tu); !bytes.Equal(got[:], want) {
		t.Fatalf("cookie %x, want %x", got, want)
	}
}

// A Fast Open child is the user's before the handshake completes: a RST
// then resets it (ECONNRESET), where a plain SYN-RECEIVED child would
// silently go back to LISTEN.
func TestFastOpenServerChildResetInSynReceived(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := cookieSyn(env, []byte("0123456789"))
	c := accept(t, l, env, 0, seg)
	recv(t, c)
	if l.Accept() != c.Conn {
		t.Fatal("not acceptable")
	}
	send(t, c, Segment{Seq: rseq(11), Ack: c.lseq(1), Flags: flagRST | flagACK, Window: remoteWin})
	expectState(t, c, Closed)
	if c.Err() != ErrConnectionReset || l.fastOpenPending != 0 {
		t.Fatalf("err %v, pending %d", c.Err(), l.fastOpenPending)
	}
}

// Data a Fast Open server sent in SYN-RECEIVED is still outstanding when
// the client's ACK takes only the SYN (the data was lost): the
// retransmission timer must keep running for it (RFC 6298 §5.3), or the
// connection waits forever.
func TestFastOpenServerDataSentInSynReceivedIsRetransmitted(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := cookieSyn(env, []byte("hello"))
	c := accept(t, l, env, 0, seg)
	recv(t, c)
	c.Write([]byte("world"))
	world := Segment{Seq: c.lseq(1), Ack: rseq(6), Flags: flagACK | flagPSH, Window: testBuf - 5, Payload: []byte("world")}
	expect(t, recv(t, c), world)
	c.now = 10 * time.Millisecond
	send(t, c, Segment{Seq: rseq(6), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin})
	expectState(t, c, Established)
	expect(t, recv(t, c))
	if c.Deadline() == never {
		t.Fatal("no retransmission timer for the data sent in SYN-RECEIVED")
	}
	c.now = c.Deadline()
	expect(t, recv(t, c), world)
}

// RFC 5961 §4.2: an in-window SYN that is not the client's SYN again gets
// a challenge ACK. A Fast Open child the user may already hold must not
// go quietly back to LISTEN on it (that would read as a clean close); as
// Linux keeps such a child, an off-path attacker cannot end it.
func TestFastOpenServerChildSurvivesInWindowSyn(t *testing.T) {
	l, env := fastOpenListener(t)
	seg := cookieSyn(env, []byte("hello"))
	c := accept(t, l, env, 0, seg)
	recv(t, c)
	if l.Accept() != c.Conn {
		t.Fatal("not acceptable")
	}
	before := env.Stats
	send(t, c, Segment{Seq: rseq(1000), Flags: flagSYN, Window: remoteWin, Options: mssOpt(remoteMSS)})
	expectState(t, c, SynReceived)
	expectDrop(t, env, before, DropSYNChallenged, 1)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(6), Flags: flagACK, Window: testBuf - 5})
	if c.Err() != nil || l.fastOpenPending != 1 {
		t.Fatalf("err %v, pending %d", c.Err(), l.fastOpenPending)
	}
	// The real client's ACK still completes the handshake.
	send(t, c, Segment{Seq: rseq(6), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin})
	expectState(t, c, Established)
}

// RFC 6298 §2 and Karn's rule: the SYN was not retransmitted, so the
// SYN-ACK gives an RTT sample even when it takes none of the SYN's data
// (Linux samples it too).
func TestFastOpenRTTSampledWhenOnlySynAcked(t *testing.T) {
	env := newTestEnv(testConfig())
	warmCache(t, env, remoteMSS)
	c := fastOpenClient(t, env, 40030, time.Second)
	c.Write(pattern(0, 700))
	recv(t, c)
	c.now += 30 * time.Millisecond
	send(t, c, Segment{Seq: remoteISS, Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(remoteMSS)})
	if srtt, _ := c.RTT(); srtt != 30*time.Millisecond {
		t.Fatalf("SRTT %v after a 30 ms handshake, want 30ms", srtt)
	}
}

// A cookie still valid under the previous key is accepted, and the SYN-ACK
// hands out one under the current key, so a client's cookie is renewed
// before its key expires rather than refused once after (Linux's
// TCPFastOpenPassiveAltKey; RFC 7413 §4.1.2).
func TestFastOpenServerRenewsCookieOfPreviousKey(t *testing.T) {
	l, env := fastOpenListener(t)
	p := env.Config.FastOpenKeyPeriod
	old := env.fastOpenCookie(p/2, testTuple)
	now := p + p/2
	seg := peerSYN
	seg.Options = foOpts(remoteMSS, old[:])
	seg.Payload = []byte("hello")
	c := accept(t, l, env, now, seg)
	fresh := env.fastOpenCookie(now, testTuple)
	if bytes.Equal(old[:], fresh[:]) {
		t.Fatal("the key did not rotate")
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(6), Flags: flagSYN | flagACK, Window: testBuf - 5, Options: foOpts(testMSS, fresh[:])})
	if env.Stats.FastOpenPassive != 1 || env.Stats.FastOpenPassiveFail != 0 {
		t.Fatalf("passive %d, fail %d", env.Stats.FastOpenPassive, env.Stats.FastOpenPassiveFail)
	}
}
