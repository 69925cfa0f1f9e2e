package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Each measurement below builds a fresh pair of stacks, so no state
// (TIME-WAIT connections, pooled buffers, timers) carries over from one
// measurement to the next, and tears it down before returning.

// connectPair dials once and accepts the connection at the server.
func connectPair(p *pair) (client, server net.Conn, err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := p.ln.Accept()
		ch <- res{c, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err = p.dial(ctx)
	if err != nil {
		p.ln.Close()
		<-ch
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	r := <-ch
	if r.err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("accept: %w", r.err)
	}
	return client, r.c, nil
}

// bulkStats counts the packets of a bulk transfer, each way.
type bulkStats struct {
	Data, Acks, Drops uint64
}

// measureBulk sends total bytes one way over one connection and returns
// the throughput in Gbit/s, from the first write to the last byte read,
// and the packets each way. If the transfer does not finish within
// timeout, the bytes that arrived by then count.
func measureBulk(k kind, pc pairConfig, total int64, timeout time.Duration) (float64, bulkStats, error) {
	var st bulkStats
	p, err := newPair(k, pc)
	if err != nil {
		return 0, st, err
	}
	defer p.Close()
	c, s, err := connectPair(p)
	if err != nil {
		return 0, st, err
	}
	defer c.Close()
	defer s.Close()

	const chunk = 64 << 10
	type res struct {
		n   int64
		end time.Time
		err error
	}
	done := make(chan res, 1)
	start := time.Now()
	deadline := start.Add(timeout)
	s.SetReadDeadline(deadline)
	c.SetWriteDeadline(deadline)
	go func() {
		buf := make([]byte, chunk)
		var n int64
		var err error
		for n < total {
			var k int
			k, err = s.Read(buf)
			n += int64(k)
			if err != nil {
				break
			}
		}
		done <- res{n, time.Now(), err}
	}()
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	var sent int64
	var werr error
	for sent < total {
		k, err := c.Write(buf[:min(int64(chunk), total-sent)])
		sent += int64(k)
		if err != nil {
			werr = err
			break
		}
	}
	r := <-done
	if r.n == 0 {
		return 0, st, fmt.Errorf("nothing received (write error %v, read error %v)", werr, r.err)
	}
	if r.n < total && !isTimeout(r.err) {
		return 0, st, fmt.Errorf("received %d of %d bytes: %v", r.n, total, r.err)
	}
	st.Data, st.Acks, st.Drops = p.a.Stats().Sent, p.b.Stats().Sent, p.drops()
	return float64(r.n) * 8 / r.end.Sub(start).Seconds() / 1e9, st, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// measureConnRate opens and closes connections for window and returns
// connections per second. It runs in batches of at most maxConns
// connections, each on a fresh pair of stacks, because every connection
// leaves a TIME-WAIT behind on the client and a batch must stay within
// the ephemeral port range; only the time inside batches counts.
//
// The server closes only after reading the client's FIN, as a Go
// server's handler does, so the client is always the active closer and
// holds the TIME-WAIT. (Were the server to close first, a client reusing
// a port would meet the server's TIME-WAIT and the result would hinge on
// each stack's TIME-WAIT reopen rule, RFC 6191, a different measurement.)
// With one client, each cycle is: dial, accept, client close, server reads
// EOF and closes. With more, each client loops dial+close while the accept
// loop hands each connection to a goroutine that waits for EOF and
// closes, and a batch's clock stops when every dialed connection has been
// served.
func measureConnRate(k kind, pc pairConfig, clients int, window time.Duration, maxConns int) (rate float64, drops uint64, err error) {
	var total int64
	var spent time.Duration
	deadline := time.Now().Add(window)
	for total == 0 || time.Now().Before(deadline) {
		n, d, dr, err := connBatch(k, pc, clients, max(time.Until(deadline), time.Millisecond), maxConns)
		if err != nil {
			return 0, 0, err
		}
		total += n
		spent += d
		drops += dr
	}
	return float64(total) / spent.Seconds(), drops, nil
}

// connBatch runs one batch of measureConnRate and returns the connections
// made, the time they took, and the packets the pipe dropped.
func connBatch(k kind, pc pairConfig, clients int, window time.Duration, maxConns int) (int64, time.Duration, uint64, error) {
	p, err := newPair(k, pc)
	if err != nil {
		return 0, 0, 0, err
	}
	// Closing the pair ends the accept loop and any handler still
	// waiting; bg waits for them, so nothing of this batch outlives it.
	var bg sync.WaitGroup
	defer func() {
		p.Close()
		bg.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), window+30*time.Second)
	defer cancel()

	if clients <= 1 {
		start := time.Now()
		end := start.Add(window)
		var n int64
		for n < int64(maxConns) && (n == 0 || time.Now().Before(end)) {
			c, err := p.dial(ctx)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("dial #%d: %w", n, err)
			}
			s, err := p.ln.Accept()
			if err != nil {
				return 0, 0, 0, fmt.Errorf("accept #%d: %w", n, err)
			}
			c.Close()
			if err := awaitEOF(s); err != nil {
				return 0, 0, 0, fmt.Errorf("server #%d: %w", n, err)
			}
			n++
		}
		return n, time.Since(start), p.drops(), nil
	}

	var served, serveErrs atomic.Int64
	acceptDone := make(chan error, 1)
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			s, err := p.ln.Accept()
			if err != nil {
				acceptDone <- err
				return
			}
			bg.Add(1)
			go func() {
				defer bg.Done()
				if awaitEOF(s) != nil {
					serveErrs.Add(1)
				}
				served.Add(1)
			}()
		}
	}()
	var (
		dialed   atomic.Int64
		reserved atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(window)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reserved.Add(1) <= int64(maxConns) && time.Now().Before(end) {
				c, err := p.dial(ctx)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				c.Close()
				dialed.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, 0, fmt.Errorf("dial: %w", firstErr)
	}
	want := dialed.Load()
	for served.Load() < want {
		select {
		case err := <-acceptDone:
			return 0, 0, 0, fmt.Errorf("accept: %w", err)
		case <-ctx.Done():
			return 0, 0, 0, fmt.Errorf("served %d of %d", served.Load(), want)
		default:
			time.Sleep(50 * time.Microsecond)
		}
	}
	elapsed := time.Since(start)
	if n := serveErrs.Load(); n > 0 {
		return 0, 0, 0, fmt.Errorf("%d server connections did not end in EOF", n)
	}
	return want, elapsed, p.drops(), nil
}

// awaitEOF reads until the peer's FIN, then closes.
func awaitEOF(c net.Conn) error {
	defer c.Close()
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(b[:]); err != io.EOF {
		return fmt.Errorf("read before close: %v, want EOF", err)
	}
	return nil
}

// memResult is the cost of idle established connections, per end.
type memResult struct {
	BytesPerEnd      float64
	GoroutinesPerEnd float64
}

// measureMemory opens n connections, lets them settle, and reports the Go
// heap (HeapAlloc after GC) and goroutines they hold, divided by 2n: both
// ends live in this process and both count.
func measureMemory(k kind, pc pairConfig, n int, settle time.Duration) (memResult, error) {
	p, err := newPair(k, pc)
	if err != nil {
		return memResult{}, err
	}
	defer p.Close()
	clients := make([]net.Conn, 0, n)
	servers := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
		for _, c := range servers {
			c.Close()
		}
	}()
	// One connection first, so lazily built per-stack state is not
	// charged to the connections.
	c, s, err := connectPair(p)
	if err != nil {
		return memResult{}, err
	}
	defer c.Close()
	defer s.Close()
	time.Sleep(settle / 4)

	// The baseline is taken before the accept goroutine starts, and the
	// final count after it has finished.
	heap0, g0 := settledHeap()
	acceptErr := make(chan error, 1)
	go func() {
		for range n {
			s, err := p.ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			servers = append(servers, s)
		}
		acceptErr <- nil
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		c, err := p.dial(ctx)
		if err != nil {
			p.ln.Close()
			<-acceptErr
			return memResult{}, fmt.Errorf("dial #%d: %w", i, err)
		}
		clients = append(clients, c)
	}
	if err := <-acceptErr; err != nil {
		return memResult{}, fmt.Errorf("accept: %w", err)
	}
	time.Sleep(settle)
	heap1, g1 := settledHeap()
	ends := float64(2 * n)
	return memResult{
		BytesPerEnd:      (float64(heap1) - float64(heap0)) / ends,
		GoroutinesPerEnd: float64(g1-g0) / ends,
	}, nil
}

// settledHeap collects garbage twice (the second pass empties what
// sync.Pools kept as victims) and reports HeapAlloc and goroutines. It
// repeats until HeapAlloc holds still (within 16 KiB over 20 ms, for at
// most a second): stacks from earlier measurements can stay reachable a
// little while after they are closed (gVisor's endpoints hang on to
// pending timers), and their release must not count against this one.
func settledHeap() (uint64, int) {
	read := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	h := read()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		next := read()
		diff := int64(next) - int64(h)
		h = next
		if diff > -16<<10 && diff < 16<<10 {
			break
		}
	}
	return h, runtime.NumGoroutine()
}

// handshakeResult is the cost of one complete handshake.
type handshakeResult struct {
	CPUNs  float64 // process CPU time (user+system, both stacks, GC included)
	WallNs float64
	Allocs float64
	Bytes  float64
}

// measureHandshake completes n handshakes back to back (dial returns and
// accept returns), keeping every connection open so that no teardown
// traffic falls inside the measurement, and reports the cost of each.
func measureHandshake(k kind, pc pairConfig, n int) (handshakeResult, error) {
	p, err := newPair(k, pc)
	if err != nil {
		return handshakeResult{}, err
	}
	defer p.Close()
	const warm = 50
	conns := make([]net.Conn, 0, 2*(n+warm))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	one := func() error {
		c, err := p.dial(ctx)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		s, err := p.ln.Accept()
		if err != nil {
			c.Close()
			return fmt.Errorf("accept: %w", err)
		}
		conns = append(conns, c, s)
		return nil
	}
	for range warm {
		if err := one(); err != nil {
			return handshakeResult{}, err
		}
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	t0 := time.Now()
	for range n {
		if err := one(); err != nil {
			return handshakeResult{}, err
		}
	}
	wall := time.Since(t0)
	cpu1 := cpuTime()
	runtime.ReadMemStats(&m1)
	fn := float64(n)
	return handshakeResult{
		CPUNs:  float64(cpu1-cpu0) / fn,
		WallNs: float64(wall) / fn,
		Allocs: float64(m1.Mallocs-m0.Mallocs) / fn,
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / fn,
	}, nil
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureLatency bounces a 64-byte message over one connection for up to
// window (or maxIters round trips) and returns every round trip time.
func measureLatency(k kind, pc pairConfig, window time.Duration, maxIters int) ([]time.Duration, error) {
	p, err := newPair(k, pc)
	if err != nil {
		return nil, err
	}
	var bg sync.WaitGroup
	defer func() {
		p.Close()
		bg.Wait()
	}()
	c, s, err := connectPair(p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	bg.Add(1)
	go func() {
		defer bg.Done()
		defer s.Close()
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, 64)
	reply := make([]byte, 64)
	c.SetDeadline(time.Now().Add(window + 10*time.Second))
	rtt := func() (time.Duration, error) {
		t := time.Now()
		if _, err := c.Write(msg); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			return 0, err
		}
		return time.Since(t), nil
	}
	for range 200 {
		if _, err := rtt(); err != nil {
			return nil, fmt.Errorf("warm-up round trip: %w", err)
		}
	}
	samples := make([]time.Duration, 0, maxIters)
	end := time.Now().Add(window)
	for len(samples) < maxIters && time.Now().Before(end) {
		d, err := rtt()
		if err != nil {
			return nil, fmt.Errorf("round trip #%d: %w", len(samples), err)
		}
		samples = append(samples, d)
	}
	return samples, nil
}

// percentile returns the q-quantile (0..1) of samples (sorted in place).
func percentile(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	i := int(q * float64(len(samples)-1))
	return samples[i]
}
