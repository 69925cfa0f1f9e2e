package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// pair joins an active and a passive connection through a lossless,
// zero-delay path and shuttles segments until both are quiet.
type pair struct {
	env      *Env
	listener *Listener
	client   *Conn
	server   *Conn
	now      time.Duration
	out      Output
}

var (
	clientTuple = Tuple{
		LocalAddr: netip.MustParseAddr("192.0.2.1"), RemoteAddr: netip.MustParseAddr("192.0.2.2"),
		LocalPort: 40000, RemotePort: 80,
	}
)

func newPair(t testing.TB, cfg Config) *pair {
	env := NewEnv(cfg, [16]byte{1, 2, 3})
	p := &pair{env: env, listener: NewListener(env)}
	p.client = NewActive(env, clientTuple, 0)
	return p
}

// deliver hands every queued segment to its destination, repeatedly,
// until nothing more is produced.
func (p *pair) run(t testing.TB) {
	for i := 0; i < 10000; i++ {
		p.client.Poll(p.now, &p.out)
		if p.server != nil {
			p.server.Poll(p.now, &p.out)
		}
		if len(p.out.Segs) == 0 {
			return
		}
		segs := append([]OutSegment(nil), p.out.Segs...)
		for i := range segs {
			segs[i].Seg.Payload = append([]byte(nil), segs[i].Seg.Payload...)
		}
		p.out.Reset()
		for i := range segs {
			s := &segs[i]
			if s.Tuple == clientTuple {
				if p.server == nil {
					p.server = p.listener.Input(p.now, clientTuple.Reverse(), &s.Seg, &p.out)
				} else {
					p.server.Input(p.now, &s.Seg, &p.out)
				}
			} else {
				p.client.Input(p.now, &s.Seg, &p.out)
			}
		}
	}
	t.Fatal("conversation did not settle")
}

func TestPairHandshakeAndData(t *testing.T) {
	p := newPair(t, Config{})
	p.run(t)
	if p.client.State() != Established || p.server.State() != Established {
		t.Fatalf("states %v %v", p.client.State(), p.server.State())
	}
	if got := p.listener.Accept(); got != p.server {
		t.Fatalf("accept returned %v", got)
	}
	msg := bytes.Repeat([]byte("threeway"), 100000)
	var got []byte
	buf := make([]byte, 65536)
	for off := 0; off < len(msg) || len(got) < len(msg); {
		if off < len(msg) {
			w, err := p.client.Write(msg[off:])
			if err != nil {
				t.Fatal(err)
			}
			off += w
		}
		p.run(t)
		for {
			r, _ := p.server.Read(buf)
			if r == 0 {
				break
			}
			got = append(got, buf[:r]...)
		}
		p.run(t)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("data mismatch: %d vs %d", len(got), len(msg))
	}
	p.client.Close(p.now, &p.out)
	p.run(t)
	if p.server.State() != CloseWait {
		t.Fatalf("server %v", p.server.State())
	}
	p.server.Close(p.now, &p.out)
	p.run(t)
	if p.client.State() != TimeWait || p.server.State() != Closed {
		t.Fatalf("after close: %v %v", p.client.State(), p.server.State())
	}
	p.now += 2 * p.env.Config.MSL
	p.run(t)
	if p.client.State() != Closed {
		t.Fatalf("client %v after 2MSL", p.client.State())
	}
}
