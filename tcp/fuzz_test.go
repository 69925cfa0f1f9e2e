package tcp

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// fuzzFixture builds the TCB a fuzz input starts from.
func fuzzFixture(t *testing.T, sel byte) *testConn {
	small := testConfig()
	small.RecvBuffer, small.SendBuffer = 3000, 3000
	allSmall := allConfig()
	allSmall.RecvBuffer, allSmall.SendBuffer = 70000, 3000
	peerAll := wire.Options{HasMSS: true, MSS: 536, HasWScale: true, WScale: 2, SACKPermitted: true, HasTimestamps: true, TSVal: 1000}
	switch sel % 14 {
	case 0:
		return connSynSent(t)
	case 1:
		return connSynReceivedPassive(t)
	case 2:
		return connSynReceivedActive(t)
	case 3:
		return connEstablished(t)
	case 4:
		return connFinWait1(t)
	case 5:
		return connFinWait2(t)
	case 6:
		return connCloseWait(t)
	case 7:
		return connClosing(t)
	case 8:
		return connLastAck(t)
	case 9:
		return connTimeWait(t)
	case 10:
		return connEstablishedWith(t, small)
	case 11:
		c, _ := handshake(t, allConfig(), peerAll, 1000)
		return c
	case 12:
		c, _ := handshake(t, allSmall, peerAll, 1000)
		return c
	default:
		// A passive child whose SYN carried text and options.
		l, env := listenerWith(t, allSmall)
		s := peerSYN
		s.Options = peerAll
		s.Payload = pattern(0, 100)
		return accept(t, l, env, 0, s)
	}
}

// checkInvariants asserts what must hold of any TCB after any input.
func checkInvariants(t *testing.T, c *testConn, step int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d, %v: "+format, append([]any{step, c.state}, args...)...)
	}
	if !c.sndUna.LessThanEq(c.sndNxt) || !c.sndNxt.LessThanEq(c.sndMax) {
		fail("SND.UNA %v SND.NXT %v SND.MAX %v out of order", c.sndUna, c.sndNxt, c.sndMax)
	}
	if c.snd.n < 0 || c.snd.n > c.snd.limit {
		fail("send buffer %d of %d", c.snd.n, c.snd.limit)
	}
	if c.rcv.n < 0 || c.rcv.n > c.rcv.limit {
		fail("receive buffer %d of %d", c.rcv.n, c.rcv.limit)
	}
	if c.state == Closed || c.state == SynSent {
		return
	}
	if c.rcvAdv.LessThan(c.rcvNxt) {
		fail("RCV.ADV %v left of RCV.NXT %v", c.rcvAdv, c.rcvNxt)
	}
	if w := int(c.rcvNxt.Size(c.rcvAdv)); w > c.rcv.free() {
		fail("window %d larger than free buffer %d", w, c.rcv.free())
	}
	if len(c.rcv.ooo) > maxOOORanges {
		fail("%d out-of-order ranges", len(c.rcv.ooo))
	}
	prev := c.rcvNxt
	for i, r := range c.rcv.ooo {
		if r.start.LessThan(prev) || !r.start.LessThan(r.end) || (i > 0 && r.start == prev) {
			fail("out-of-order ranges %v (RCV.NXT %v)", c.rcv.ooo, c.rcvNxt)
		}
		if int(c.rcvNxt.Size(r.end)) > c.rcv.free() {
			fail("out-of-order range %v beyond the buffer (free %d)", r, c.rcv.free())
		}
		prev = r.end
	}
	// The scoreboard covers exactly SND.UNA to SND.MAX, and its running
	// totals match a walk (RFC 6675 SetPipe).
	if l := c.lossState; l != nil && c.state != Closed {
		segs := l.sb.live()
		if len(segs) > 0 {
			// (The SYN, unacknowledged in FIN-WAIT-1 straight from
			// SYN-RECEIVED, is not on the scoreboard.)
			if segs[0].start != seqnum.Max(c.sndUna, c.iss.Add(1)) || segs[len(segs)-1].end != c.sndMax {
				fail("scoreboard [%v, %v) but SND.UNA %v SND.MAX %v", segs[0].start, segs[len(segs)-1].end, c.sndUna, c.sndMax)
			}
			var pipe, sacked uint32
			for i := range segs {
				if i > 0 && segs[i].start != segs[i-1].end {
					fail("scoreboard gap at %v", segs[i].start)
				}
				if !segs[i].start.LessThan(segs[i].end) {
					fail("empty scoreboard segment at %v", segs[i].start)
				}
				if segs[i].flags.inPipe() {
					pipe += segs[i].len()
				}
				if segs[i].flags&segSACKed != 0 {
					sacked += segs[i].len()
				}
			}
			if pipe != l.sb.pipe || sacked != l.sb.sacked {
				fail("scoreboard pipe %d sacked %d, walk gives %d %d", l.sb.pipe, l.sb.sacked, pipe, sacked)
			}
		} else if c.sndUna != c.sndMax && c.sndUna != c.iss && c.state != TimeWait {
			fail("empty scoreboard with %v..%v outstanding", c.sndUna, c.sndMax)
		}
	}
	// Everything sent is in the buffer, plus SYN and FIN.
	if c.state.Synchronized() {
		if d := int(c.bufSeq.Size(c.sndMax)); d < 0 || d > c.snd.n+1 {
			if c.state != TimeWait {
				fail("SND.MAX %v is %d past the buffer start %v holding %d", c.sndMax, d, c.bufSeq, c.snd.n)
			}
		}
	}
}

// fuzzStep applies one operation decoded from b and returns the rest.
func fuzzStep(t *testing.T, c *testConn, b []byte) []byte {
	op := b[0]
	b = b[1:]
	switch op % 8 {
	case 0, 1, 2, 3, 4: // a segment from the peer
		if len(b) < 9 {
			return nil
		}
		ctl := b[0]
		seg := Segment{Flags: wire.Flags(ctl) & (flagFIN | flagSYN | flagRST | flagPSH | flagACK | wire.FlagURG)}
		so := int32(int16(binary.BigEndian.Uint16(b[1:])))
		ao := int32(int16(binary.BigEndian.Uint16(b[3:])))
		if ctl&0x40 != 0 {
			so *= 4096 // far away
		}
		seg.Seq = c.rcvNxt + seqnum.Value(so)
		if c.state == SynSent {
			seg.Seq = remoteISS + seqnum.Value(so)
		}
		base := c.sndUna
		if ctl&0x80 != 0 {
			base = c.sndMax
		}
		seg.Ack = base + seqnum.Value(ao)
		seg.Window = binary.BigEndian.Uint16(b[5:])
		opt := b[7]
		if opt&1 != 0 {
			seg.Options.HasTimestamps = true
			seg.Options.TSVal = c.tsRecent + uint32(int32(int8(opt&0xf0)))
			seg.Options.TSEcr = c.tsVal(c.now)
		}
		if opt&2 != 0 {
			// SACK blocks: the whole flight, a piece of it, a D-SACK
			// below SND.UNA, or garbage, chosen by the offsets.
			seg.Options.NumSACK = 1
			seg.Options.SACK[0] = wire.SACKBlock{Start: uint32(c.sndUna), End: uint32(c.sndMax)}
			mid := c.sndUna + seqnum.Value(uint32(ao)&0x3fff)
			switch so & 3 {
			case 1:
				seg.Options.SACK[0] = wire.SACKBlock{Start: uint32(mid), End: uint32(mid) + uint32(b[8])*7}
			case 2:
				seg.Options.NumSACK = 2
				seg.Options.SACK[0] = wire.SACKBlock{Start: uint32(c.sndUna) - 100, End: uint32(c.sndUna)}
				seg.Options.SACK[1] = wire.SACKBlock{Start: uint32(mid), End: uint32(c.sndMax)}
			case 3:
				seg.Options.NumSACK = 3
				seg.Options.SACK[1] = wire.SACKBlock{Start: uint32(c.sndMax), End: uint32(c.sndUna)}
				seg.Options.SACK[2] = wire.SACKBlock{Start: uint32(mid), End: uint32(mid) + 1}
			}
		}
		if opt&4 != 0 {
			seg.Options.HasMSS, seg.Options.MSS = true, uint16(opt)*8
		}
		if opt&8 != 0 {
			seg.Options.HasWScale, seg.Options.WScale = true, opt>>4
		}
		n := int(b[8]) * 9
		seg.Payload = pattern(int(so), n)
		b = b[9:]
		send(t, c, seg)
	case 5: // the application
		if len(b) < 1 {
			return nil
		}
		a := b[0]
		b = b[1:]
		switch a % 8 {
		case 0, 1, 2:
			c.Write(pattern(0, int(a)*23))
		case 3, 4:
			c.Read(make([]byte, int(a)*31))
		case 5:
			c.CloseWrite(c.now)
		case 6:
			if a > 200 {
				c.Abort(c.now, &c.out)
			} else {
				c.Close(c.now, &c.out)
			}
		case 7:
			c.SetNoDelay(a&8 != 0)
		}
	case 6: // jump to the next deadline
		if d := c.Deadline(); d != Never && d > c.now && d-c.now < 24*time.Hour {
			c.now = d
		}
	case 7: // let time pass
		if len(b) < 1 {
			return nil
		}
		c.now += time.Duration(b[0]) * 7 * time.Millisecond
		b = b[1:]
	}
	c.Poll(c.now, &c.out)
	c.TakeEvents()
	c.take(t)
	return b
}

// FuzzConnInput drives a TCB, in a state chosen by the first byte, with
// segments, application calls and time steps decoded from the input, and
// checks the TCB's invariants after every step.
func FuzzConnInput(f *testing.F) {
	f.Add([]byte{3, 0, byte(flagACK), 0, 0, 0, 0, 0xea, 0x60, 0, 10})
	f.Add([]byte{11, 5, 1, 0, byte(flagACK | flagPSH), 0, 0, 0, 0, 0, 100, 1, 50, 6, 6, 6})
	f.Add([]byte{12, 0, byte(flagACK), 0, 100, 0, 0, 0, 0, 3, 200, 3, byte(flagACK), 0, 0, 0, 0, 0, 0, 1, 200})
	f.Add([]byte{0, 0, byte(flagSYN | flagACK), 0, 0, 0, 1, 0xff, 0xff, 5, 50})
	f.Add([]byte{13, 0, byte(flagACK), 0, 0, 0, 1, 0, 100, 1, 0, 5, 3})
	f.Add([]byte{2, 0, byte(flagSYN | flagACK), 0xff, 0xff, 0, 1, 0, 100, 0, 30})
	f.Add([]byte{10, 5, 0x50, 0, byte(flagACK), 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 0, byte(flagACK), 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		c := fuzzFixture(t, data[0])
		c.take(t)
		data = data[1:]
		checkInvariants(t, c, 0)
		for step := 1; len(data) > 0 && step <= 300; step++ {
			data = fuzzStep(t, c, data)
			checkInvariants(t, c, step)
		}
	})
}

// FuzzListenerInput feeds a listener and its children segments from a
// handful of peers, with time steps, accepts and a close, and checks that
// the queues stay within their limits and hold what they should.
func FuzzListenerInput(f *testing.F) {
	f.Add([]byte{0, byte(flagSYN), 0, 0, 0, 0, 1, byte(flagACK), 0, 1, 0, 1})
	f.Add([]byte{0, byte(flagSYN), 0, 0, 1, byte(flagSYN), 0, 0, 2, byte(flagSYN), 0, 0, 0, byte(flagACK), 0, 1, 1, byte(flagACK), 0, 1, 0xfe, 0xff})
	// Fast Open SYNs with data: valid cookies (offset 1), a request and a forged cookie.
	f.Add([]byte{0, byte(flagSYN) | 0x40, 1, 10, 1, byte(flagSYN) | 0x40, 1, 5, 2, byte(flagSYN) | 0x40, 1, 5, 3, byte(flagSYN) | 0x40, 0, 5, 4, byte(flagSYN) | 0x40, 2, 5, 0xfe, 0, 0, 0, 0xff, 40, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := testConfig()
		cfg.SynAckRetries = 2
		l, env := listenerWith(t, cfg)
		l.SynQueue, l.AcceptQueue = 3, 2
		l.FastOpenQueue = 2
		kids := map[uint16]*testConn{}
		now := time.Duration(0)
		var out Output
		for step := 0; len(data) >= 4 && step < 400; step++ {
			op, ctl := data[0], data[1]
			off := int32(int8(data[2]))
			n := int(data[3]) % 64
			data = data[4:]
			switch {
			case op == 0xff:
				now += time.Duration(ctl) * 50 * time.Millisecond
			case op == 0xfe:
				if c := l.Accept(); c != nil && c.State() == SynReceived && !c.tfo.isEarly() {
					t.Fatalf("accepted a SYN-RECEIVED child without Fast Open")
				}
			case op == 0xfd:
				l.Close(now, &out, nil)
				out.Reset()
			default:
				port := uint16(40000 + int(op)%6)
				tu := testTuple
				tu.RemotePort = port
				seg := Segment{Flags: wire.Flags(ctl) & (flagFIN | flagSYN | flagRST | flagPSH | flagACK), Window: remoteWin, Payload: pattern(0, n)}
				if c := kids[port]; c != nil && c.State() != Closed {
					seg.Seq = c.rcvNxt + seqnum.Value(off)
					seg.Ack = c.sndUna + seqnum.Value(off/16)
					c.now = now
					send(t, c, seg)
				} else {
					seg.Seq = remoteISS + seqnum.Value(off)
					seg.Ack = seqnum.Value(off)
					if ctl&0x40 != 0 {
						// RFC 7413: a cookie request, a valid cookie or
						// a forged one, chosen by the offset.
						switch ck := env.fastOpenCookie(now, tu); off % 3 {
						case 0:
							seg.Options.SetFastOpen(nil, ctl&0x80 != 0)
						case 1:
							seg.Options.SetFastOpen(ck[:], ctl&0x80 != 0)
						default:
							ck[0]++
							seg.Options.SetFastOpen(ck[:], false)
						}
					}
					if child := l.Input(now, tu, &seg, &out); child != nil {
						kids[port] = &testConn{Conn: child, l: l, now: now}
						_ = env
					}
					out.Reset()
				}
			}
			for _, c := range kids {
				c.now = now
				c.Poll(now, &c.out)
				c.out.Reset()
			}
			half, ready := l.Pending()
			if half > 3 || ready > 2 {
				t.Fatalf("step %d: queues %d/%d over limits 3/2", step, half, ready)
			}
			for _, c := range l.half {
				if c.State() != SynReceived {
					t.Fatalf("half-open queue holds a %v child", c.State())
				}
			}
			for _, c := range l.ready {
				if c.State() == SynReceived && !c.tfo.isEarly() || c.State() == Closed {
					t.Fatalf("accept queue holds a %v child", c.State())
				}
			}
			if l.fastOpenPending < 0 || l.fastOpenPending > l.FastOpenQueue {
				t.Fatalf("step %d: %d Fast Open children pending, bound %d", step, l.fastOpenPending, l.FastOpenQueue)
			}
		}
	})
}
