package threeway

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threeway-tcp/threeway/link"
)

// TestFastOpenSavesARoundTrip runs two request/response exchanges over a
// pipe with 10 ms each way, on the simulated clock. The first connection
// fetches a cookie; the second carries its request in the SYN and gets
// its answer one round trip sooner (RFC 7413 §1).
func TestFastOpenSavesARoundTrip(t *testing.T) {
	synctest.Test(t, testFastOpenSavesARoundTrip)
}

func testFastOpenSavesARoundTrip(t *testing.T) {
	var mu sync.Mutex
	var synPayloads []int
	observe := func(pkt []byte) bool {
		if s, ok := parseSeg(pkt); ok && isSYN(s) {
			mu.Lock()
			synPayloads = append(synPayloads, s.payload)
			mu.Unlock()
		}
		return false
	}
	n := newTestNet(t, netConfig{pipe: link.PipeConfig{
		AtoB: link.Impairments{Delay: 10 * time.Millisecond, Drop: observe},
		BtoA: link.Impairments{Delay: 10 * time.Millisecond},
	}})
	l := listen(t, n.server, ":80")
	l.SetFastOpen(16)
	req, resp := []byte("GET / HTTP/1.0\r\n\r\n"), bytes.Repeat([]byte("r"), 3000)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, len(req))
				if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, req) {
					t.Errorf("server read %q, %v", buf, err)
					return
				}
				c.Write(resp)
			}()
		}
	}()
	fetch := func() time.Duration {
		t.Helper()
		start := n.now()
		c, err := (&Dialer{Stack: n.client, FastOpen: true}).Dial("tcp", "192.0.2.2:80")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, resp) {
			t.Fatalf("response %d bytes, %v", len(got), err)
		}
		return n.now().Sub(start)
	}
	first, second := fetch(), fetch()
	mu.Lock()
	defer mu.Unlock()
	if len(synPayloads) != 2 || synPayloads[0] != 0 || synPayloads[1] != len(req) {
		t.Fatalf("SYN payloads %v, want [0 %d]", synPayloads, len(req))
	}
	// 20 ms round trips: the first exchange needs two (handshake, then
	// request), the second one.
	if first < 40*time.Millisecond || second >= 40*time.Millisecond || second < 20*time.Millisecond {
		t.Fatalf("first exchange %v, second %v", first, second)
	}
	cs, ss := n.client.Stats(), n.server.Stats()
	if cs.FastOpenActive != 1 || cs.FastOpenCookieReqSent != 1 || ss.FastOpenPassive != 1 || ss.FastOpenCookieReqd != 1 {
		t.Fatalf("client %+v\nserver %+v", cs.Stats, ss.Stats)
	}
}
