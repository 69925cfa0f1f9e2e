package tcp

// Options and MSS: RFC 9293 §3.7.1 (MSS: MUST-14, MUST-15, MUST-16,
// MUST-65, MUST-67, SHLD-5, SHLD-6), RFC 7323 (window scale §2,
// timestamps §3, PAWS §5) and RFC 2018 §2 (SACK-permitted).

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// allConfig has every option on and the default 256 KiB buffers: our
// window scale shift is 3.
func allConfig() Config { return DefaultConfig() }

// A SYN with no option but MSS and a SYN-ACK with none: the peer's MSS
// defaults to 536 (MUST-15), nothing else is negotiated.
func TestOptionsNone(t *testing.T) {
	c, syn := handshake(t, testConfig(), wire.Options{}, remoteWin)
	expect(t, []Segment{syn}, Segment{Seq: c.lseq(0), Flags: flagSYN, Window: testBuf, Options: mssOpt(testMSS)})
	if n := c.Negotiated(); n != (Negotiated{SendMSS: 536, AdvertisedMSS: testMSS}) {
		t.Fatalf("negotiated %+v", n)
	}
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf})
	c.Write(pattern(0, 1000))
	expect(t, recv(t, c),
		Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Payload: pattern(0, 536)},
		Segment{Seq: c.lseq(537), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Payload: pattern(536, 464)})
}

// Everything offered on both sides: MSS, window scale, SACK-permitted and
// timestamps all in use. The SYN-ACK's window is not scaled (RFC 7323
// §2.2); everything after it is, both ways; every segment carries
// timestamps and the data segments are MSS less 12 (MUST-16).
func TestOptionsAllBothSides(t *testing.T) {
	peer := wire.Options{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamps: true, TSVal: 5000}
	c, syn := handshake(t, allConfig(), peer, 1000)
	expect(t, []Segment{syn}, Segment{Seq: c.lseq(0), Flags: flagSYN, Window: 65535, Options: wire.Options{
		HasMSS: true, MSS: testMSS, HasWScale: true, WScale: 3, SACKPermitted: true, HasTimestamps: true, TSVal: c.tsVal(0)}})
	want := Negotiated{SendMSS: 1400, AdvertisedMSS: testMSS, WindowScale: true, SendShift: 7, RecvShift: 3, SACK: true, Timestamps: true}
	if n := c.Negotiated(); n != want {
		t.Fatalf("negotiated %+v, want %+v", n, want)
	}
	if c.sndWnd != 1000 {
		t.Fatalf("SND.WND %d: the SYN-ACK's window must not be scaled", c.sndWnd)
	}
	ts := wire.Options{HasTimestamps: true, TSVal: c.tsVal(c.now), TSEcr: 5000}
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: 256 << 10 >> 3, Options: ts})
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 1000, Options: wire.Options{HasTimestamps: true, TSVal: 5001, TSEcr: ts.TSVal}})
	if c.sndWnd != 1000<<7 {
		t.Fatalf("SND.WND %d, want 1000<<7", c.sndWnd)
	}
	if c.EffectiveMSS() != 1388 {
		t.Fatalf("effective MSS %d", c.EffectiveMSS())
	}
	c.Write(pattern(0, 3000))
	ts.TSEcr = 5001
	expect(t, recv(t, c),
		Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: 32768, Options: ts, Payload: pattern(0, 1388)},
		Segment{Seq: c.lseq(1389), Ack: rseq(1), Flags: flagACK, Window: 32768, Options: ts, Payload: pattern(1388, 1388)},
		Segment{Seq: c.lseq(2777), Ack: rseq(1), Flags: flagACK | flagPSH, Window: 32768, Options: ts, Payload: pattern(2776, 224)})
}

// Every combination of options offered by us and by the peer, on both an
// active and a passive open: each is in use exactly when both offered it
// (RFC 7323 §1.3, §2.2; RFC 2018 §2), and a SYN-ACK carries only options
// the SYN carried.
func TestOptionsNegotiationMatrix(t *testing.T) {
	for mask := 0; mask < 64; mask++ {
		local, remote := mask&7, mask>>3
		name := fmt.Sprintf("local=%03b/peer=%03b", local, remote)
		t.Run(name, func(t *testing.T) {
			cfg := allConfig()
			cfg.NoWindowScaling, cfg.NoSACK, cfg.NoTimestamps = local&1 == 0, local&2 == 0, local&4 == 0
			peer := wire.Options{HasMSS: true, MSS: remoteMSS}
			if remote&1 != 0 {
				peer.HasWScale, peer.WScale = true, 2
			}
			if remote&2 != 0 {
				peer.SACKPermitted = true
			}
			if remote&4 != 0 {
				peer.HasTimestamps, peer.TSVal = true, 99
			}
			both := local & remote
			want := Negotiated{SendMSS: remoteMSS, AdvertisedMSS: testMSS, WindowScale: both&1 != 0, SACK: both&2 != 0, Timestamps: both&4 != 0}
			if want.WindowScale {
				want.SendShift, want.RecvShift = 2, 3
			}

			a, syn := handshake(t, cfg, peer, remoteWin)
			if syn.Options.HasWScale != (local&1 != 0) || syn.Options.SACKPermitted != (local&2 != 0) || syn.Options.HasTimestamps != (local&4 != 0) || !syn.Options.HasMSS {
				t.Fatalf("active SYN options %s", fmtOpts(&syn.Options))
			}
			if n := a.Negotiated(); n != want {
				t.Fatalf("active: negotiated %+v, want %+v", n, want)
			}

			l, env := listenerWith(t, cfg)
			s := peerSYN
			s.Options = peer
			p := accept(t, l, env, 0, s)
			synAck := recv(t, p)
			o := synAck[0].Options
			if o.HasWScale != (both&1 != 0) || o.SACKPermitted != (both&2 != 0) || o.HasTimestamps != (both&4 != 0) || !o.HasMSS {
				t.Fatalf("SYN-ACK options %s", fmtOpts(&o))
			}
			if o.HasTimestamps && o.TSEcr != 99 {
				t.Fatalf("SYN-ACK TSecr %d, want the SYN's TSval", o.TSEcr)
			}
			if n := p.Negotiated(); n != want {
				t.Fatalf("passive: negotiated %+v, want %+v", n, want)
			}
		})
	}
}

// RFC 7323 §2.3: a shift above 14 is taken as 14.
func TestWindowScaleCappedAt14(t *testing.T) {
	for _, ws := range []uint8{14, 15, 200} {
		c, _ := handshake(t, allConfig(), wire.Options{HasMSS: true, MSS: remoteMSS, HasWScale: true, WScale: ws}, 1)
		if c.Negotiated().SendShift != 14 {
			t.Fatalf("wscale %d: shift %d", ws, c.Negotiated().SendShift)
		}
		send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 3})
		if c.sndWnd != 3<<14 {
			t.Fatalf("SND.WND %d", c.sndWnd)
		}
	}
	// Our own offer never exceeds 14 however large the buffer.
	if s := windowShiftFor(1 << 40); s != 14 {
		t.Fatalf("offered shift %d", s)
	}
}

// RFC 7323 §2.2: the window field of a SYN or SYN-ACK is never scaled,
// in what we send and in what we receive; later segments are.
func TestSynWindowNeverScaled(t *testing.T) {
	l, env := listenerWith(t, allConfig())
	s := peerSYN
	s.Window = 1000
	s.Options = wire.Options{HasMSS: true, MSS: remoteMSS, HasWScale: true, WScale: 7}
	p := accept(t, l, env, 0, s)
	synAck := recv(t, p)
	if synAck[0].Window != 65535 || synAck[0].Options.WScale != 3 {
		t.Fatalf("SYN-ACK %s", fmtSeg(&synAck[0]))
	}
	if p.sndWnd != 1000 {
		t.Fatalf("SND.WND %d from the SYN", p.sndWnd)
	}
	send(t, p, Segment{Seq: rseq(1), Ack: p.lseq(1), Flags: flagACK, Window: 1000})
	expectState(t, p, Established)
	if p.sndWnd != 1000<<7 {
		t.Fatalf("SND.WND %d after the handshake, want 1000<<7", p.sndWnd)
	}
	// What we advertise after the handshake is shifted by our scale.
	send(t, p, Segment{Seq: rseq(1), Ack: p.lseq(1), Flags: flagACK, Window: 1000, Payload: []byte("x")})
	expect(t, recv(t, p), Segment{Seq: p.lseq(1), Ack: rseq(2), Flags: flagACK, Window: uint16((256<<10 - 1) >> 3)})
}

// Without the peer's window scale option, neither side scales and our
// window field saturates at 65535.
func TestWindowScaleOnlyIfBothOffered(t *testing.T) {
	c, _ := handshake(t, allConfig(), mssOpt(remoteMSS), 1000)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: 65535})
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: 1000})
	if c.sndWnd != 1000 {
		t.Fatalf("SND.WND %d", c.sndWnd)
	}
}

// A tiny MSS is raised to 48 octets, so that the effective MSS stays
// positive once options are subtracted (Linux tcp_min_snd_mss; RFC 9293
// does not say); an MSS of 0 is treated as absent.
func TestTinyMSSClamped(t *testing.T) {
	c, _ := handshake(t, testConfig(), mssOpt(10), remoteWin)
	if c.Negotiated().SendMSS != 48 {
		t.Fatalf("send MSS %d", c.Negotiated().SendMSS)
	}
	recv(t, c)
	c.Write(pattern(0, 100))
	segs := recv(t, c)
	if len(segs) != 3 || len(segs[0].Payload) != 48 {
		t.Fatalf("%d segments, first %d octets", len(segs), len(segs[0].Payload))
	}
	c, _ = handshake(t, testConfig(), mssOpt(0), remoteWin)
	if c.Negotiated().SendMSS != 536 {
		t.Fatalf("MSS 0: send MSS %d", c.Negotiated().SendMSS)
	}
}

// MUST-15: without an MSS option the send MSS is 536 over IPv4 and 1220
// over IPv6.
func TestMSSDefaultWhenAbsent(t *testing.T) {
	for _, tc := range []struct {
		tu   Tuple
		want uint16
	}{{testTuple, 536}, {testTuple6, 1220}} {
		env := newTestEnv(testConfig())
		c := &testConn{Conn: NewActive(env, tc.tu, 0)}
		recv(t, c)
		send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin})
		if c.Negotiated().SendMSS != tc.want {
			t.Fatalf("%v: send MSS %d, want %d", tc.tu.LocalAddr, c.Negotiated().SendMSS, tc.want)
		}
	}
}

// MUST-14, MUST-67, SHLD-5, SHLD-6, MAY-3: we always send an MSS option,
// derived from the link MTU less fixed IP and TCP headers (40 octets for
// IPv4, 60 for IPv6), and never send segments larger than our own MTU
// allows even if the peer's MSS is larger.
func TestAdvertisedMSSFromMTU(t *testing.T) {
	for _, tc := range []struct {
		mtu  int
		tu   Tuple
		want uint16
	}{
		{1500, testTuple, 1460}, {1500, testTuple6, 1440},
		{9000, testTuple, 8960}, {9000, testTuple6, 8940},
		{1280, testTuple6, 1220}, {576, testTuple, 536},
	} {
		cfg := testConfig()
		cfg.MTU = tc.mtu
		env := newTestEnv(cfg)
		c := &testConn{Conn: NewActive(env, tc.tu, 0)}
		syn := recv(t, c)
		if !syn[0].Options.HasMSS || syn[0].Options.MSS != tc.want {
			t.Fatalf("MTU %d %v: SYN MSS %s, want %d", tc.mtu, tc.tu.LocalAddr, fmtOpts(&syn[0].Options), tc.want)
		}
		send(t, c, Segment{Seq: rseq(0), Ack: c.lseq(1), Flags: flagSYN | flagACK, Window: remoteWin, Options: mssOpt(9000)})
		if c.Negotiated().SendMSS != tc.want {
			t.Fatalf("MTU %d: send MSS %d, want our own %d", tc.mtu, c.Negotiated().SendMSS, tc.want)
		}
	}
}

// MUST-65: the MSS option goes only on SYN and SYN-ACK. Checked over a
// whole exchange with every option in use.
func TestMSSOnlyOnSyn(t *testing.T) {
	peer := wire.Options{HasMSS: true, MSS: remoteMSS, HasWScale: true, WScale: 2, SACKPermitted: true, HasTimestamps: true, TSVal: 1}
	c, syn := handshake(t, allConfig(), peer, remoteWin)
	if !syn.Options.HasMSS {
		t.Fatal("SYN without MSS")
	}
	ts := func() wire.Options { return wire.Options{HasTimestamps: true, TSVal: 2, TSEcr: c.tsVal(c.now)} }
	var all []Segment
	all = append(all, recv(t, c)...)
	c.Write(pattern(0, 5000))
	all = append(all, recv(t, c)...)
	send(t, c, Segment{Seq: rseq(101), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: ts(), Payload: pattern(0, 10)})
	all = append(all, recv(t, c)...)
	c.CloseWrite(c.now)
	c.now = 5 * time.Second
	all = append(all, recv(t, c)...)
	for _, s := range all {
		if s.Options.HasMSS || s.Options.HasWScale || s.Options.SACKPermitted {
			t.Fatalf("SYN-only option on %s", fmtSeg(&s))
		}
	}
	if len(all) < 5 {
		t.Fatalf("only %d segments", len(all))
	}
}

// tsConn is an established connection with timestamps negotiated: the
// peer's SYN-ACK had TSval 5000, and our ACK of it has gone out.
func tsConn(t *testing.T) *testConn {
	t.Helper()
	cfg := testConfig()
	cfg.NoTimestamps = false
	c, _ := handshake(t, cfg, wire.Options{HasMSS: true, MSS: remoteMSS, HasTimestamps: true, TSVal: 5000}, remoteWin)
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Options: c.ts(5000)})
	return c
}

// ts is the timestamps option we send now, echoing ecr.
func (c *testConn) ts(ecr uint32) wire.Options {
	return wire.Options{HasTimestamps: true, TSVal: c.tsVal(c.now), TSEcr: ecr}
}

func peerTS(val uint32) wire.Options { return wire.Options{HasTimestamps: true, TSVal: val} }

// RFC 7323 §3.2: once negotiated, TSopt goes on every non-RST segment
// (ACKs, data, FIN, challenge ACKs, window probes), and never on a RST.
func TestTimestampsOnEveryNonRstSegment(t *testing.T) {
	c := tsConn(t)
	c.now = time.Second
	c.Write([]byte("data"))
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Options: c.ts(5000), Payload: []byte("data")})
	send(t, c, Segment{Seq: rseq(7), Flags: flagRST}) // challenge ACK
	expect(t, recv(t, c), Segment{Seq: c.lseq(5), Ack: rseq(1), Flags: flagACK, Window: testBuf, Options: c.ts(5000)})
	c.now = 2 * time.Second // retransmission
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK | flagPSH, Window: testBuf, Options: c.ts(5000), Payload: []byte("data")})
	c.CloseWrite(c.now)
	expect(t, recv(t, c), Segment{Seq: c.lseq(5), Ack: rseq(1), Flags: flagACK | flagFIN, Window: testBuf, Options: c.ts(5000)})
	c.Abort(c.now, &c.out)
	expect(t, recv(t, c), Segment{Seq: c.lseq(6), Flags: flagRST})
}

// RFC 7323 §4.3: TSecr echoes TS.Recent, which takes SEG.TSval only from
// a segment with SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent: an
// out-of-order segment does not move it, the one that fills the hole does.
func TestTSRecentUpdateRule(t *testing.T) {
	c := tsConn(t)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(5100), Payload: pattern(0, 100)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(101), Flags: flagACK, Window: testBuf - 100, Options: c.ts(5100)})
	send(t, c, Segment{Seq: rseq(201), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(5300), Payload: pattern(200, 100)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(101), Flags: flagACK, Window: testBuf - 100, Options: c.ts(5100)})
	send(t, c, Segment{Seq: rseq(101), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(5200), Payload: pattern(100, 100)})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(301), Flags: flagACK, Window: testBuf - 300, Options: c.ts(5200)})
}

// RFC 7323 §5.3 (PAWS, R1): a segment whose TSval is older than TS.Recent
// is an old duplicate: it is dropped and acknowledged.
func TestPAWSDropsOldTimestampWithAck(t *testing.T) {
	c := tsConn(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(4999), Payload: []byte("old")})
	expect(t, recv(t, c), Segment{Seq: c.lseq(1), Ack: rseq(1), Flags: flagACK, Window: testBuf, Options: c.ts(5000)})
	expectDrop(t, c.env, before, DropPAWSReject, 1)
	if c.Readable() != 0 || c.env.Stats.PAWSRejects != 1 {
		t.Fatalf("readable %d PAWSRejects %d", c.Readable(), c.env.Stats.PAWSRejects)
	}
	// Serial comparison: 5000 is older than 5000-2^31+1... but newer
	// than 5000+2^31 (RFC 7323 §5.2, timestamps compared modulo 2^32).
	c.now += c.env.Config.InvalidRateLimit // one answer per interval (ratelimit.go)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(5000 + 1<<31 + 1), Payload: []byte("old")})
	expectDrop(t, c.env, before, DropPAWSReject, 2)
	recv(t, c)
	// R1 does not apply to a RST.
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST, Options: peerTS(1)})
	expectState(t, c, Closed)
	if !errors.Is(c.Err(), ErrConnectionReset) {
		t.Fatalf("err %v", c.Err())
	}
}

// RFC 7323 §5.5: TS.Recent older than 24 days is no longer valid, so an
// old TSval after a long idle period is not a PAWS reject.
func TestPAWSTSRecentExpires(t *testing.T) {
	c := tsConn(t)
	c.now = 25 * 24 * time.Hour
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(1), Payload: []byte("x")})
	if c.Readable() != 1 {
		t.Fatal("segment rejected after TS.Recent expired")
	}
}

// RFC 7323 §3.2: once timestamps are negotiated a non-RST segment without
// TSopt is dropped silently; a RST without one is processed.
func TestMissingTimestampDropped(t *testing.T) {
	c := tsConn(t)
	before := c.env.Stats
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Payload: []byte("no ts")})
	expect(t, recv(t, c))
	expectDrop(t, c.env, before, DropMissingTimestamp, 1)
	if c.Readable() != 0 {
		t.Fatal("accepted")
	}
	send(t, c, Segment{Seq: rseq(1), Flags: flagRST})
	expectState(t, c, Closed)
}

// The handshake's final ACK must carry timestamps too when the SYN
// offered them and we agreed.
func TestPassiveOpenFinalAckNeedsTimestamp(t *testing.T) {
	l, env := listenerWith(t, allConfig())
	s := peerSYN
	s.Options = wire.Options{HasMSS: true, MSS: remoteMSS, HasTimestamps: true, TSVal: 77}
	c := accept(t, l, env, 0, s)
	expect(t, recv(t, c), Segment{Seq: c.lseq(0), Ack: rseq(1), Flags: flagSYN | flagACK, Window: 65535,
		Options: wire.Options{HasMSS: true, MSS: testMSS, HasTimestamps: true, TSVal: c.tsVal(0), TSEcr: 77}})
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin})
	expectState(t, c, SynReceived)
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: wire.Options{HasTimestamps: true, TSVal: 78, TSEcr: c.tsVal(0)}})
	expectState(t, c, Established)
}

// RFC 7323 §5.4: TSval is a millisecond clock with a per-connection
// random offset, so it reveals neither uptime nor other connections.
func TestTimestampClock(t *testing.T) {
	c := tsConn(t)
	if d := c.tsVal(1500*time.Millisecond) - c.tsVal(500*time.Millisecond); d != 1000 {
		t.Fatalf("TSval advanced %d in 1 s", d)
	}
	other := &testConn{Conn: newConn(c.env, testTuple6, 0)}
	if c.tsVal(0) == other.tsVal(0) {
		t.Fatal("two connections share a timestamp offset")
	}
}

// RFC 2018 §3: with timestamps in every segment only three SACK blocks
// fit in the 40 octets of options; the newest block stays first and the
// most recently reported follow (§4).
func TestSACKBlocksWithTimestamps(t *testing.T) {
	cfg := allConfig()
	c, _ := handshake(t, cfg, wire.Options{HasMSS: true, MSS: remoteMSS, SACKPermitted: true, HasTimestamps: true, TSVal: 5000}, remoteWin)
	recv(t, c)
	for i, off := range []int{1000, 3000, 5000, 7000} {
		send(t, c, Segment{Seq: rseq(1 + off), Ack: c.lseq(1), Flags: flagACK, Window: remoteWin, Options: peerTS(5000 + uint32(i)), Payload: pattern(off, 10)})
	}
	segs := recv(t, c)
	last := segs[len(segs)-1].Options
	if last.NumSACK != 3 || last.SACK[0].Start != uint32(rseq(7001)) || last.SACK[1].Start != uint32(rseq(5001)) || last.SACK[2].Start != uint32(rseq(3001)) {
		t.Fatalf("SACK option %s", fmtOpts(&last))
	}
	if !last.HasTimestamps || last.Len() > wire.MaxOptionsLen {
		t.Fatalf("options %s, %d octets", fmtOpts(&last), last.Len())
	}
}
