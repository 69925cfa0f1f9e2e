package interop

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// forwardPeerEnv names the program the test binary runs when re-executed
// inside one of the forward tests' namespaces; the last argument is its
// argument. Every one uses the kernel's TCP through package net.
const forwardPeerEnv = "THREEWAY_FORWARD_PEER"

func runForwardPeer(mode, arg string) int {
	args := strings.Split(arg, ",")
	fail := func(err error) int {
		fmt.Println("error:", err)
		return 1
	}
	switch mode {
	case "http":
		return serveForwardHTTP(args)
	case "halfclose":
		return serveHalfClose(args[0])
	case "socks5":
		return serveSocks5(args[0])
	case "get": // url,count,parallel: GETs, each body checked against the pattern
		n, _ := strconv.Atoi(args[1])
		par, _ := strconv.Atoi(args[2])
		ok, bad, first := parallelGets(args[0], n, par)
		fmt.Printf("ok %d fail %d first %v\n", ok, bad, first)
	case "connect": // addr,timeout: one connect, and how it ended
		d, _ := time.ParseDuration(args[1])
		start := time.Now()
		c, err := net.DialTimeout("tcp", args[0], d)
		el := time.Since(start).Milliseconds()
		if err == nil {
			c.Close()
			fmt.Printf("connected %d\n", el)
			return 0
		}
		var errno syscall.Errno
		name := "other"
		switch {
		case errors.As(err, &errno):
			name = strconv.Itoa(int(errno))
		case errors.Is(err, os.ErrDeadlineExceeded), strings.Contains(err.Error(), "timeout"):
			name = "timeout"
		}
		fmt.Printf("failed %s %d %v\n", name, el, err)
	case "flood": // prefix,count,seconds: SYNs from random sources to random destinations
		n, _ := strconv.Atoi(args[1])
		secs, _ := strconv.ParseFloat(args[2], 64)
		sent, err := synFlood(netip.MustParsePrefix(args[0]), n, time.Duration(secs*float64(time.Second)))
		if err != nil {
			return fail(err)
		}
		fmt.Printf("sent %d\n", sent)
	case "hold": // addr,count: open count connections, hold them until stdin closes
		n, _ := strconv.Atoi(args[1])
		var conns []net.Conn
		for i := 0; i < n; i++ {
			c, err := net.DialTimeout("tcp", args[0], 10*time.Second)
			if err != nil {
				return fail(err)
			}
			conns = append(conns, c)
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		for _, c := range conns {
			c.Close()
		}
	default:
		return fail(fmt.Errorf("unknown mode %q", mode))
	}
	return 0
}

// serveForwardHTTP answers GET /bytes/N with N bytes of the pattern on
// every address given, until killed.
func serveForwardHTTP(addrs []string) int {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.PathValue("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := pattern(251 * 256)
		for n > 0 {
			k := min(n, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		go http.Serve(l, mux)
	}
	fmt.Println("listening")
	select {}
}

// serveHalfClose listens on addr (port P) and P+1. On P it reads to EOF,
// then answers "got N" and closes: the client's FIN must come through
// while the server still talks. On P+1 it sends "banner", half-closes,
// then reads what the client sends after that FIN and prints it.
func serveHalfClose(addr string) int {
	ap := netip.MustParseAddrPort(addr)
	l1, err1 := net.Listen("tcp", addr)
	l2, err2 := net.Listen("tcp", netip.AddrPortFrom(ap.Addr(), ap.Port()+1).String())
	if err := errors.Join(err1, err2); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	go func() {
		for {
			c, err := l1.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				fmt.Fprintf(c, "got %d\n", len(b))
			}()
		}
	}()
	go func() {
		for {
			c, err := l2.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "banner\n")
				c.(*net.TCPConn).CloseWrite()
				b, err := io.ReadAll(c)
				fmt.Printf("after-fin %q %v\n", b, err)
			}()
		}
	}()
	fmt.Println("listening")
	select {}
}

// serveSocks5 is a small SOCKS5 server (RFC 1928: no authentication,
// CONNECT to IPv4 and IPv6 addresses) that splices with half-close.
func serveSocks5(addr string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	var served atomic.Int64
	fmt.Println("listening")
	for {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		go func() {
			defer c.Close()
			up, err := socksAccept(c)
			if err != nil {
				return
			}
			fmt.Printf("socks connect %v %d\n", up.RemoteAddr(), served.Add(1))
			splicePeers(c.(*net.TCPConn), up)
		}()
	}
}

func socksAccept(c net.Conn) (*net.TCPConn, error) {
	r := bufio.NewReader(c)
	var hello [2]byte
	if _, err := io.ReadFull(r, hello[:]); err != nil || hello[0] != 5 {
		return nil, errors.New("bad greeting")
	}
	if _, err := io.ReadFull(r, make([]byte, hello[1])); err != nil {
		return nil, err
	}
	c.Write([]byte{5, 0})
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || head[1] != 1 {
		return nil, errors.New("not CONNECT")
	}
	var ip []byte
	switch head[3] {
	case 1:
		ip = make([]byte, 4)
	case 4:
		ip = make([]byte, 16)
	default:
		c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0})
		return nil, errors.New("address type")
	}
	var port [2]byte
	if _, err := io.ReadFull(r, ip); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return nil, err
	}
	a, _ := netip.AddrFromSlice(ip)
	dst := netip.AddrPortFrom(a, binary.BigEndian.Uint16(port[:]))
	up, err := net.DialTimeout("tcp", dst.String(), 3*time.Second)
	if err != nil {
		code := byte(1)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			code = 5
		case errors.Is(err, syscall.EHOSTUNREACH):
			code = 4
		case errors.Is(err, syscall.ENETUNREACH):
			code = 3
		case strings.Contains(err.Error(), "timeout"):
			code = 6
		}
		c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
		return nil, err
	}
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	return up.(*net.TCPConn), nil
}

// splicePeers copies both ways, passing each FIN on.
func splicePeers(a, b *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Add(2)
	one := func(dst, src *net.TCPConn) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.CloseWrite()
	}
	go one(a, b)
	go one(b, a)
	wg.Wait()
	b.Close()
}

// parallelGets runs n GETs of url, par at a time, checking each body
// against the pattern.
func parallelGets(url string, n, par int) (ok, bad int64, first error) {
	size, _ := strconv.Atoi(url[strings.LastIndexByte(url, '/')+1:])
	want := sha256.Sum256(pattern(size))
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	var mu sync.Mutex
	var okN, badN atomic.Int64
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := func() error {
				resp, err := client.Get(url)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				h := sha256.New()
				if _, err := io.Copy(h, resp.Body); err != nil {
					return err
				}
				if hex.EncodeToString(h.Sum(nil)) != hex.EncodeToString(want[:]) {
					return errors.New("body differs")
				}
				return nil
			}()
			if err == nil {
				okN.Add(1)
				return
			}
			badN.Add(1)
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return okN.Load(), badN.Load(), first
}

// synFlood sends n SYNs, spread over d, from random sources in 192.0.2.0/24
// (not .1, the client) to random addresses and ports in dst, through a
// raw socket: the kernel routes them as it would any packet to dst.
func synFlood(dst netip.Prefix, n int, d time.Duration) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	rng := rand.New(rand.NewPCG(7, 11))
	pkt := make([]byte, 40)
	start := time.Now()
	sent := 0
	base := dst.Addr().As4()
	hostBits := 32 - dst.Bits()
	for i := 0; i < n; i++ {
		if due := start.Add(d * time.Duration(i) / time.Duration(n)); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		src := [4]byte{192, 0, 2, byte(2 + rng.IntN(250))}
		to := base
		h := rng.Uint32() & (1<<hostBits - 1)
		for b := 0; b < 4; b++ {
			to[3-b] |= byte(h >> (8 * b))
		}
		buildSYN(pkt, src, to, uint16(1024+rng.IntN(60000)), uint16(1+rng.IntN(65000)), rng.Uint32())
		sa := &syscall.SockaddrInet4{Addr: to}
		if err := syscall.Sendto(fd, pkt, 0, sa); err == nil {
			sent++
		}
	}
	return sent, nil
}

// buildSYN writes a 40-byte IPv4 TCP SYN with valid checksums.
func buildSYN(b []byte, src, dst [4]byte, sport, dport uint16, seq uint32) {
	clear(b)
	b[0], b[8], b[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(b[2:], 40)
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:20], 0))
	t := b[20:]
	binary.BigEndian.PutUint16(t[0:], sport)
	binary.BigEndian.PutUint16(t[2:], dport)
	binary.BigEndian.PutUint32(t[4:], seq)
	t[12], t[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(t[14:], 65535)
	var pseudo uint32
	for i := 0; i < 4; i += 2 {
		pseudo += uint32(binary.BigEndian.Uint16(src[i:])) + uint32(binary.BigEndian.Uint16(dst[i:]))
	}
	pseudo += 6 + 20
	binary.BigEndian.PutUint16(t[16:], checksum(t, pseudo))
}

func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
