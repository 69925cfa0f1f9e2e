package tcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
	"github.com/threeway-tcp/threeway/wire"
)

// FuzzForwarderInput feeds a forwarder a sequence of segments and
// decisions decoded from the input, and checks its bookkeeping: the pools
// never go negative or past their bounds, and every pending request is in
// the deadline queue.
func FuzzForwarderInput(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0x02, 0, 0, 0x10, 0, 1})
	f.Add([]byte{0x02, 1, 0, 0x02, 2, 0, 0x04, 1, 0, 0x80, 0, 0, 0x81, 2, 0, 0x82, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := testConfig()
		cfg.SynCookies = CookieMode(len(b) % 3)
		env := newTestEnv(cfg)
		fw := NewForwarder(env)
		fw.MaxPending, fw.MaxPerSource, fw.Timeout = 3, 2, 5*time.Second
		var out Output
		var reqs []*Request
		var lastSynAck seqnum.Value
		now := time.Duration(0)
		for i := 0; i+2 < len(b); i += 3 {
			op, who, arg := b[i], b[i+1], b[i+2]
			tu := testTuple
			tu.RemoteAddr = netip.AddrFrom4([4]byte{192, 0, 2, who % 4})
			tu.RemotePort = 1000 + uint16(who%8)
			now += time.Duration(arg) * 100 * time.Millisecond
			out.Reset()
			if op&0x80 == 0 {
				seg := Segment{Seq: rseq(int(arg)), Ack: lastSynAck + seqnum.Value(arg%2), Flags: wire.Flags(op & 0x3f), Window: 1000}
				if r, _ := fw.Input(now, tu, &seg, &out); r != nil {
					reqs = append(reqs, r)
				}
				for _, o := range out.Segs {
					if o.Seg.Flags == flagSYN|flagACK {
						lastSynAck = o.Seg.Seq + 1
					}
				}
			} else if len(reqs) > 0 {
				r := reqs[int(arg)%len(reqs)]
				switch op & 3 {
				case 0:
					fw.Complete(now, r, &out)
				case 1:
					fw.Reject(now, r, &out)
				case 2:
					fw.Forget(now, r, &out)
				case 3:
					fw.Expire(now, &out, nil)
				}
			}
			h, e := fw.Pending()
			if h < 0 || e < 0 || h > fw.MaxPending || e > fw.MaxPending {
				t.Fatalf("pools %d, %d out of bounds", h, e)
			}
			live := 0
			for _, r := range fw.pending {
				if !r.Gone() {
					live++
				}
			}
			if live != h+e {
				t.Fatalf("%d live requests, pools say %d", live, h+e)
			}
			for src, n := range fw.sources {
				if n <= 0 || n > fw.MaxPerSource {
					t.Fatalf("source %v counted %d", src, n)
				}
			}
		}
		fw.Close(now, &out, nil)
		if h, e := fw.Pending(); h != 0 || e != 0 || len(fw.sources) != 0 {
			t.Fatalf("after Close: pools %d, %d, sources %v", h, e, fw.sources)
		}
	})
}
