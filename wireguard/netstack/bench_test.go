package netstack_test

import (
	"context"
	"io"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHTTPOverTunnel downloads 16 MiB over HTTP through a wireguard
// tunnel between two wireguard-go devices in this process, each on
// threeway or on wireguard-go's gVisor netstack: MB/s, and CPU time per
// MB for everything (both stacks, both devices' crypto, HTTP).
func BenchmarkHTTPOverTunnel(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			tn := newTunnel(b, be)
			server := netip.AddrPortFrom(addrB4, 80)
			serveHTTP(b, tn.b, server)
			c := httpClient(tn.a)
			defer c.CloseIdleConnections()
			get := func() {
				resp, err := c.Get("http://" + server.String() + "/bulk")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || n != bulkSize {
					b.Fatalf("got %d bytes: %v", n, err)
				}
			}
			get() // the handshake and connection outside the timing
			b.SetBytes(bulkSize)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				get()
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/1e6/(float64(b.N)*bulkSize/1e6), "cpu-ms/MB")
		})
	}
}

// BenchmarkIdleConnHeap opens idleConns TCP connections through the
// tunnel and leaves them idle: the heap they hold, both ends together,
// per connection.
func BenchmarkIdleConnHeap(b *testing.B) {
	const idleConns = 200
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			var perConn float64
			for i := 0; i < b.N; i++ {
				perConn = idleHeap(b, be, idleConns)
			}
			b.ReportMetric(perConn, "heap-B/conn")
		})
	}
}

func idleHeap(b *testing.B, be backend, n int) float64 {
	tn := newTunnel(b, be)
	defer tn.close()
	l, err := tn.b.listenTCP(netip.AddrPortFrom(addrB4, 9))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	// Warm up the tunnel so that its handshake is outside the count.
	warm, err := tn.a.DialContext(context.Background(), "tcp", "192.0.2.2:9")
	if err != nil {
		b.Fatal(err)
	}
	(<-accepted).Close()
	warm.Close()
	time.Sleep(100 * time.Millisecond)
	before := heapInUse()
	conns := make([]net.Conn, 0, 2*n)
	for range n {
		c, err := tn.a.DialContext(context.Background(), "tcp", "192.0.2.2:9")
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c, <-accepted)
	}
	time.Sleep(200 * time.Millisecond) // let the last ACKs settle
	after := heapInUse()
	for _, c := range conns {
		c.Close()
	}
	return float64(after-before) / float64(n)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkHTTPOverTunnelInterleaved alternates one 16 MiB download on
// each backend per iteration, so that both see the same machine load,
// and reports each one's MB/s and CPU per MB and threeway's ratios to
// gVisor (> 1: threeway better).
func BenchmarkHTTPOverTunnelInterleaved(b *testing.B) {
	type side struct {
		get       func()
		wall, cpu time.Duration
	}
	sides := make([]*side, len(backends))
	for i, be := range backends {
		tn := newTunnel(b, be)
		server := netip.AddrPortFrom(addrB4, 80)
		serveHTTP(b, tn.b, server)
		c := httpClient(tn.a)
		defer c.CloseIdleConnections()
		sd := &side{}
		sd.get = func() {
			resp, err := c.Get("http://" + server.String() + "/bulk")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || n != bulkSize {
				b.Fatalf("%s: got %d bytes: %v", be.name, n, err)
			}
		}
		sd.get()
		sides[i] = sd
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, sd := range sides {
			t0, c0 := time.Now(), cpuTime()
			sd.get()
			sd.wall += time.Since(t0)
			sd.cpu += cpuTime() - c0
		}
	}
	mb := float64(b.N) * bulkSize / 1e6
	for i, sd := range sides {
		b.ReportMetric(mb/sd.wall.Seconds(), backends[i].name+"-MB/s")
		b.ReportMetric(float64(sd.cpu.Milliseconds())/mb, backends[i].name+"-cpu-ms/MB")
	}
	b.ReportMetric(sides[1].wall.Seconds()/sides[0].wall.Seconds(), "throughput-ratio")
	b.ReportMetric(sides[1].cpu.Seconds()/sides[0].cpu.Seconds(), "cpu-ratio")
}
