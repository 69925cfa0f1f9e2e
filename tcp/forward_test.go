package tcp

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// Forwarder tests: the client is REMOTE, the forwarded destination (an
// address the stack does not own) is LOCAL, as the tuple of the
// connection the forwarder would make.

var fwdSyn = Segment{Seq: remoteISS, Flags: flagSYN, Window: remoteWin,
	Options: wire.Options{HasMSS: true, MSS: remoteMSS}}

func newTestForwarder(cfg Config) (*Forwarder, *Env) {
	env := newTestEnv(cfg)
	return NewForwarder(env), env
}

// input feeds one segment and returns the request it made and the
// segments it sent.
func (f *Forwarder) input(t *testing.T, now time.Duration, tu Tuple, seg Segment) (*Request, bool, []Segment) {
	t.Helper()
	var out Output
	r, reset := f.Input(now, tu, &seg, &out)
	var segs []Segment
	for _, o := range out.Segs {
		if o.Tuple != tu {
			t.Fatalf("segment on %v, want %v", o.Tuple, tu)
		}
		segs = append(segs, o.Seg)
	}
	return r, reset, segs
}

func fromSource(tu Tuple, src string, port uint16) Tuple {
	tu.RemoteAddr, tu.RemotePort = netip.MustParseAddr(src), port
	return tu
}

// TestForwardSynMakesOneRequest: the first SYN to a forwarded destination
// becomes a request carrying its tuple and options and is not answered;
// retransmissions of it while pending make no other request.
func TestForwardSynMakesOneRequest(t *testing.T) {
	for _, tu := range []Tuple{testTuple, testTuple6} {
		f, env := newTestForwarder(testConfig())
		r, _, segs := f.input(t, 0, tu, fwdSyn)
		if r == nil || len(segs) != 0 {
			t.Fatalf("%v: request %v, sent %d segments", tu.LocalAddr, r, len(segs))
		}
		if r.Tuple != tu || r.SYN.Options != fwdSyn.Options || r.SYN.Seq != remoteISS {
			t.Fatalf("request %+v does not carry the SYN", r)
		}
		for i, at := range []time.Duration{time.Second, 3 * time.Second} {
			if r2, _, segs := f.input(t, at, tu, fwdSyn); r2 != nil || len(segs) != 0 {
				t.Fatalf("retransmission %d made a request or an answer", i)
			}
		}
		if f.Stats.Requests != 1 || f.Stats.Duplicates != 2 || env.Stats.Drops[DropForwardPending] != 2 {
			t.Fatalf("stats %+v, drops %d", f.Stats, env.Stats.Drops[DropForwardPending])
		}
		if h, _ := f.Pending(); h != 1 {
			t.Fatalf("pending %d, want 1", h)
		}
	}
}

// TestForwardCompleteSendsSynAck: Complete answers the held SYN with the
// SYN-ACK a listener would have sent, and the client's ACK establishes it.
func TestForwardCompleteSendsSynAck(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	r, _, _ := f.input(t, 0, testTuple, fwdSyn)
	now := 2 * time.Second
	var out Output
	c, err := f.Complete(now, r, &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != SynReceived || len(out.Segs) != 1 {
		t.Fatalf("state %v, %d segments", c.State(), len(out.Segs))
	}
	tc := &testConn{Conn: c, now: now}
	expect(t, []Segment{out.Segs[0].Seg}, Segment{Seq: c.ISS(), Ack: rseq(1), Flags: flagSYN | flagACK, Window: testBuf,
		Options: wire.Options{HasMSS: true, MSS: testMSS}})
	send(t, tc, Segment{Seq: rseq(1), Ack: tc.lseq(1), Flags: flagACK, Window: remoteWin})
	if c.State() != Established {
		t.Fatalf("state %v after the ACK", c.State())
	}
	if _, err := f.Complete(now, r, &out); !errors.Is(err, ErrRequestGone) {
		t.Fatalf("second Complete: %v", err)
	}
	if h, e := f.Pending(); h+e != 0 || f.Stats.Completed != 1 {
		t.Fatalf("pending %d+%d, stats %+v", h, e, f.Stats)
	}
}

// TestForwardRejectSendsRst: Reject answers as a closed port does,
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1).
func TestForwardRejectSendsRst(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	r, _, _ := f.input(t, 0, testTuple6, fwdSyn)
	var out Output
	if err := f.Reject(time.Second, r, &out); err != nil {
		t.Fatal(err)
	}
	expect(t, []Segment{out.Segs[0].Seg}, Segment{Ack: rseq(1), Flags: flagRST | flagACK})
	if f.Stats.Rejected != 1 {
		t.Fatalf("stats %+v", f.Stats)
	}
	// The client may try again: a new SYN is a new request.
	if r2, _, _ := f.input(t, 2*time.Second, testTuple6, fwdSyn); r2 == nil || r2 == r {
		t.Fatal("a SYN after a reject made no new request")
	}
}

// TestForwardForgetAbsorbsRetransmissions: Forget sends nothing, frees the
// slot, and retransmitted SYNs stay unanswered until the deadline; after
// it a SYN is a new request.
func TestForwardForgetAbsorbsRetransmissions(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	r, _, _ := f.input(t, 0, testTuple, fwdSyn)
	var out Output
	if err := f.Forget(0, r, &out); err != nil || len(out.Segs) != 0 {
		t.Fatalf("Forget: %v, %d segments", err, len(out.Segs))
	}
	if h, _ := f.Pending(); h != 0 {
		t.Fatalf("a forgotten request holds a slot")
	}
	if r2, _, segs := f.input(t, 3*time.Second, testTuple, fwdSyn); r2 != nil || len(segs) != 0 {
		t.Fatal("a retransmission after Forget was answered or made a request")
	}
	if f.Deadline() != DefaultForwardTimeout {
		t.Fatalf("deadline %v", f.Deadline())
	}
	if exp := f.Expire(DefaultForwardTimeout, &out, nil); len(exp) != 0 || len(out.Segs) != 0 {
		t.Fatal("a forgotten request was reset at its deadline")
	}
	if r3, _, _ := f.input(t, 15*time.Second, testTuple, fwdSyn); r3 == nil {
		t.Fatal("no new request after the deadline")
	}
}

// TestForwardDeadlineRejects: an undecided request is reset at its
// deadline, counted, and a decision after it fails.
func TestForwardDeadlineRejects(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	f.Timeout = 5 * time.Second
	r, _, _ := f.input(t, time.Second, testTuple, fwdSyn)
	if f.Deadline() != 6*time.Second {
		t.Fatalf("deadline %v, want 6s", f.Deadline())
	}
	var out Output
	if exp := f.Expire(6*time.Second-1, &out, nil); len(exp) != 0 {
		t.Fatal("expired early")
	}
	exp := f.Expire(6*time.Second, &out, nil)
	if len(exp) != 1 || exp[0] != r || len(out.Segs) != 1 {
		t.Fatalf("expired %d, %d segments", len(exp), len(out.Segs))
	}
	expect(t, []Segment{out.Segs[0].Seg}, Segment{Ack: rseq(1), Flags: flagRST | flagACK})
	if f.Stats.Expired != 1 || f.Deadline() != Never {
		t.Fatalf("stats %+v deadline %v", f.Stats, f.Deadline())
	}
	if _, err := f.Complete(7*time.Second, r, &out); !errors.Is(err, ErrRequestGone) {
		t.Fatalf("late Complete: %v", err)
	}
}

// TestForwardPerSourceLimit: past MaxPerSource a source's SYNs get a RST
// and are counted; other sources are unaffected.
func TestForwardPerSourceLimit(t *testing.T) {
	f, env := newTestForwarder(testConfig())
	f.MaxPerSource = 2
	for p := uint16(1); p <= 2; p++ {
		if r, _, _ := f.input(t, 0, fromSource(testTuple, "192.0.2.2", 1000+p), fwdSyn); r == nil {
			t.Fatal("refused within the bound")
		}
	}
	r, _, segs := f.input(t, 0, fromSource(testTuple, "192.0.2.2", 1003), fwdSyn)
	if r != nil || len(segs) != 1 || segs[0].Flags != flagRST|flagACK {
		t.Fatalf("over the bound: request %v, %v", r, segs)
	}
	if f.Stats.RefusedPerSource != 1 || env.Stats.Drops[DropForwardLimit] != 1 {
		t.Fatalf("stats %+v", f.Stats)
	}
	if r, _, _ := f.input(t, 0, fromSource(testTuple, "192.0.2.3", 1000), fwdSyn); r == nil {
		t.Fatal("another source refused")
	}
}

// TestForwardTotalLimitWithoutCookies: with cookies off, SYNs past
// MaxPending get a RST and are counted; a freed slot takes the next.
func TestForwardTotalLimitWithoutCookies(t *testing.T) {
	cfg := testConfig()
	cfg.SynCookies = CookiesOff
	f, _ := newTestForwarder(cfg)
	f.MaxPending = 2
	var first *Request
	for i := 0; i < 2; i++ {
		r, _, _ := f.input(t, 0, fromSource(testTuple, "192.0.2.2", uint16(2000+i)), fwdSyn)
		first = cmpOr(first, r)
	}
	_, _, segs := f.input(t, 0, fromSource(testTuple, "192.0.2.9", 3000), fwdSyn)
	if len(segs) != 1 || segs[0].Flags != flagRST|flagACK || f.Stats.RefusedTotal != 1 {
		t.Fatalf("over the total bound: %v, stats %+v", segs, f.Stats)
	}
	var out Output
	f.Reject(0, first, &out)
	if r, _, _ := f.input(t, 0, fromSource(testTuple, "192.0.2.9", 3000), fwdSyn); r == nil {
		t.Fatal("a freed slot was not reused")
	}
}

func cmpOr(a, b *Request) *Request {
	if a != nil {
		return a
	}
	return b
}

// TestForwardTotalLimitSendsCookies: at the bound, a forwarded SYN gets
// a SYN cookie and nothing is kept (RFC 4987 §3.6); the returning ACK
// makes a request whose connection is already established.
func TestForwardTotalLimitSendsCookies(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	f.MaxPending = 1
	f.input(t, 0, fromSource(testTuple, "192.0.2.7", 1), fwdSyn)
	r, _, segs := f.input(t, time.Second, testTuple, fwdSyn)
	if r != nil || len(segs) != 1 || segs[0].Flags != flagSYN|flagACK || f.Stats.CookiesSent != 1 {
		t.Fatalf("at the bound: request %v, %v, stats %+v", r, segs, f.Stats)
	}
	if h, _ := f.Pending(); h != 1 {
		t.Fatalf("a cookie kept state: %d pending", h)
	}
	r, _, segs = f.input(t, 2*time.Second, testTuple, finalAck(segs[0], false, nil))
	if r == nil || r.Conn == nil || r.Conn.State() != Established || len(segs) != 0 {
		t.Fatalf("cookie ACK: request %+v, %v", r, segs)
	}
	if _, e := f.Pending(); e != 1 || f.Stats.CookiesRecv != 1 {
		t.Fatalf("established pool %d, stats %+v", e, f.Stats)
	}
	var out Output
	c, err := f.Complete(3*time.Second, r, &out)
	if err != nil || c != r.Conn || len(out.Segs) != 0 {
		t.Fatalf("Complete of a cookie request: %v, %d segments", err, len(out.Segs))
	}
	// A forged ACK is answered with a RST, like a listener's.
	_, _, segs = f.input(t, 3*time.Second, fromSource(testTuple, "192.0.2.8", 9), Segment{Seq: rseq(1), Ack: 12345, Flags: flagACK})
	if len(segs) != 1 || segs[0].Flags != flagRST || segs[0].Seq != 12345 {
		t.Fatalf("forged ACK: %v", segs)
	}
}

// TestForwardClientResetEndsRequest: a RST from the client for a pending
// request ends it with nothing sent and frees its slot.
func TestForwardClientResetEndsRequest(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	r, _, _ := f.input(t, 0, testTuple, fwdSyn)
	r2, reset, segs := f.input(t, time.Second, testTuple, Segment{Seq: rseq(1), Flags: flagRST})
	if r2 != r || !reset || len(segs) != 0 || f.Stats.ClientResets != 1 {
		t.Fatalf("reset: %v %v %v", r2, reset, segs)
	}
	if h, _ := f.Pending(); h != 0 || !r.Gone() {
		t.Fatal("the reset request still holds a slot")
	}
}

// TestForwardCloseResetsPending: closing the forwarder resets what is
// still pending.
func TestForwardCloseResetsPending(t *testing.T) {
	f, _ := newTestForwarder(testConfig())
	f.input(t, 0, testTuple, fwdSyn)
	f.input(t, 0, testTuple6, fwdSyn)
	var out Output
	if got := f.Close(time.Second, &out, nil); len(got) != 2 || len(out.Segs) != 2 {
		t.Fatalf("closed %d, %d segments", len(got), len(out.Segs))
	}
	if h, e := f.Pending(); h+e != 0 {
		t.Fatal("pending after Close")
	}
}
