package threeway

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/threeway-tcp/threeway/wire"
)

// TestSynFloodLegitimateClientsSucceed floods a listener with spoofed SYNs
// from random sources while legitimate clients connect and exchange data.
// SYN cookies keep the listener's state bounded and every legitimate
// connection gets the options it offered (RFC 4987 §3.6). It runs in a
// synctest bubble, so the spoofed half-open entries' SYN-ACK retries
// (1 s ... 32 s) play out.
func TestSynFloodLegitimateClientsSucceed(t *testing.T) {
	spoofed, clients := 100_000, 1_000
	if testing.Short() || raceEnabled {
		spoofed, clients = 20_000, 300
	}
	synctest.Test(t, func(t *testing.T) { testSynFlood(t, spoofed, clients) })
}

func testSynFlood(t *testing.T, spoofed, clients int) {
	n := newTestNet(t, netConfig{})
	l, err := n.server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// The attacker writes straight into the client's end of the pipe.
	flood := make(chan struct{})
	go func() {
		defer close(flood)
		rng := rand.New(rand.NewPCG(1, 2))
		batch := make([][]byte, 0, 64)
		for i := 0; i < spoofed; i++ {
			src := netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(254) + 1)})
			pkt := tcpPacket(src, serverAddr.Addr(), wire.TCPFields{
				SrcPort: uint16(rng.IntN(60000) + 1024), DstPort: 80, Seq: rng.Uint32(),
				Flags: wire.FlagSYN, Window: 65535,
			}, &wire.Options{HasMSS: true, MSS: 1460, HasTimestamps: true, TSVal: rng.Uint32(), SACKPermitted: true, HasWScale: true, WScale: 7}, nil)
			batch = append(batch, pkt)
			if len(batch) == cap(batch) {
				n.a.WritePackets(batch)
				batch = batch[:0]
				runtime.Gosched()
			}
		}
		n.a.WritePackets(batch)
	}()

	var ok, optsOK atomic.Int64
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 100)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := func() error {
				c, err := n.client.Dial("tcp", "192.0.2.2:80")
				if err != nil {
					return err
				}
				defer c.Close()
				msg := []byte(fmt.Sprintf("legit client %d", i))
				if _, err := c.Write(msg); err != nil {
					return err
				}
				c.(*Conn).CloseWrite()
				got, err := io.ReadAll(c)
				if err != nil {
					return err
				}
				if !bytes.Equal(got, msg) {
					return fmt.Errorf("echo %q", got)
				}
				if ng := c.(*Conn).Negotiated(); ng.SACK && ng.Timestamps && ng.WindowScale {
					optsOK.Add(1)
				}
				return nil
			}()
			if err == nil {
				ok.Add(1)
			} else {
				failMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				failMu.Unlock()
			}
		}()
	}
	wg.Wait()
	<-flood
	// Twice: sync.Pool keeps idle buffers for one collection.
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	st := n.server.Stats()
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d spoofed SYNs (%d reached the stack), %d/%d legitimate connections ok, %d with all options; "+
		"cookies sent %d, received %d, failed %d; heap growth %d KiB; pipe: %+v; first error: %v",
		spoofed, st.PassiveOpens+st.SyncookiesSent, ok.Load(), clients, optsOK.Load(),
		st.SyncookiesSent, st.SyncookiesRecv, st.SyncookiesFailed, growth>>10, n.a.Stats(), firstErr)
	if ok.Load()*100 < int64(clients)*99 {
		t.Fatalf("only %d of %d legitimate connections succeeded (first error: %v)", ok.Load(), clients, firstErr)
	}
	if optsOK.Load() != ok.Load() {
		t.Errorf("%d connections lost options they offered", ok.Load()-optsOK.Load())
	}
	if st.SyncookiesSent == 0 {
		t.Errorf("the flood never filled the SYN queue: no cookies sent")
	}
	// The bound: the SYN queue (256 half-open entries of about 1 KiB with
	// the runtime's share), the clients' TIME-WAIT entries and the pipe's
	// queues; nothing per spoofed SYN.
	const bound = 32 << 20
	if growth > bound {
		t.Errorf("heap grew by %d MiB under the flood (bound %d MiB)", growth>>20, bound>>20)
	}
}
