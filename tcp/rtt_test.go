package tcp

import (
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// rfc6298Config is testConfig with RFC 6298 §2.4's 1 s minimum RTO, for
// tests whose timings were written for it.
func rfc6298Config() Config {
	cfg := testConfig()
	cfg.MinRTO = time.Second
	return cfg
}

// connEstablishedTS is connEstablished with timestamps negotiated: our
// TSval clock is c.tsVal(now), the peer's starts at 1000.
func connEstablishedTS(t *testing.T, cfg Config) *testConn {
	t.Helper()
	cfg.NoTimestamps = false
	c := connEstablishedWith(t, cfg)
	c.tsOK, c.tsRecent = true, 1000
	c.cc.init(c.Conn)
	return c
}

func tsOpt(val, ecr uint32) wire.Options {
	return wire.Options{HasTimestamps: true, TSVal: val, TSEcr: ecr}
}

// RFC 7323 §4 (RTTM): with timestamps every ACK of new data gives a
// sample, our clock now minus its TSecr, even for retransmitted data;
// an ACK that acknowledges nothing new gives none (§4.2).
func TestRTTMFromTimestamps(t *testing.T) {
	const mss = testMSS - 12 // the timestamp option takes 12 bytes
	c := connEstablishedTS(t, testConfig())
	c.Write(pattern(0, 2*mss))
	segs := recv(t, c)
	if len(segs) != 2 || !segs[0].Options.HasTimestamps {
		t.Fatalf("sent %d segments, options %+v", len(segs), segs[0].Options)
	}
	ecr := segs[0].Options.TSVal
	c.now = 30 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + mss), Flags: flagACK, Window: remoteWin, Options: tsOpt(1001, ecr)})
	if s, _ := c.RTT(); s != 30*time.Millisecond {
		t.Fatalf("srtt %v after a 30 ms TSecr sample", s)
	}
	// A duplicate ACK echoing an old TSval gives no sample.
	c.now = 500 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + mss), Flags: flagACK, Window: remoteWin, Options: tsOpt(1002, ecr)})
	if s, _ := c.RTT(); s != 30*time.Millisecond {
		t.Fatalf("srtt %v: a duplicate ACK gave a sample", s)
	}
	// The RTO retransmits the second segment; the ACK echoing the
	// retransmission's TSval gives an unambiguous 10 ms sample
	// (Karn's rule would give none).
	c.now = c.Deadline()
	re := recv(t, c)
	if len(re) != 1 {
		t.Fatalf("RTO sent %d segments", len(re))
	}
	c.now += 10 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + 2*mss), Flags: flagACK, Window: remoteWin, Options: tsOpt(1003, re[0].Options.TSVal)})
	if s, _ := c.RTT(); s != (7*30*time.Millisecond+10*time.Millisecond)/8 {
		t.Fatalf("srtt %v after a sample of the retransmission", s)
	}
}

// RFC 7323 §4: a TSecr that is not an echo of ours (from our future, or
// older than MaxRTO) gives no sample.
func TestRTTMRejectsBogusTSecr(t *testing.T) {
	c := connEstablishedTS(t, testConfig())
	c.Write(pattern(0, testMSS))
	recv(t, c)
	c.now = 30 * time.Millisecond
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + 10), Flags: flagACK, Window: remoteWin, Options: tsOpt(1001, c.tsVal(c.now)+5)})
	send(t, c, Segment{Seq: rseq(1), Ack: c.lseq(1 + 20), Flags: flagACK, Window: remoteWin, Options: tsOpt(1001, c.tsVal(c.now)-uint32(c.env.Config.MaxRTO/time.Millisecond)-1)})
	if s, _ := c.RTT(); s != 0 {
		t.Fatalf("srtt %v from bogus TSecr values", s)
	}
}

// The RTT sample reaches the congestion-control algorithm: HyStart++
// counts it (RFC 9406 needs a sample per ACK, which only timestamps give).
func TestRTTSampleReachesCongestionControl(t *testing.T) {
	c := connEstablishedTS(t, testConfig())
	c.Write(pattern(0, 4*(testMSS-12)))
	segs := recv(t, c)
	c.now = 20 * time.Millisecond
	for i, s := range segs {
		send(t, c, Segment{Seq: rseq(1), Ack: s.Seq.Add(seqnum.Size(len(s.Payload))), Flags: flagACK, Window: remoteWin, Options: tsOpt(1001+uint32(i), s.Options.TSVal)})
	}
	// The first ACK opened a round ending with the fourth, which opened
	// the next: both rounds saw the 20 ms samples.
	h := c.cong().(*cubic).hs
	if h.lastRoundMinRTT != 20*time.Millisecond || h.currentRoundMinRTT != 20*time.Millisecond || h.rttSamples != 1 {
		t.Fatalf("HyStart++ state %+v: samples did not arrive", h)
	}
}
