package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// socksReplay answers a SOCKS5 client with reply and reports what it sent.
func socksReplay(t testing.TB, reply []byte) ([]byte, error) {
	a, b := net.Pipe()
	got := make(chan []byte, 1)
	go func() {
		defer b.Close()
		buf := make([]byte, 64)
		n, _ := b.Read(buf) // greeting
		all := append([]byte(nil), buf[:n]...)
		b.Write(reply[:min(2, len(reply))])
		n, _ = b.Read(buf) // request
		all = append(all, buf[:n]...)
		if len(reply) > 2 {
			b.Write(reply[2:])
		}
		got <- all
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := socksConnect(ctx, a, netip.MustParseAddrPort("[2001:db8::5]:443"))
	a.Close()
	select {
	case sent := <-got:
		return sent, err
	case <-time.After(2 * time.Second):
		return nil, err
	}
}

// TestSocksConnect: RFC 1928 greeting and CONNECT for an IPv6 address;
// a refusal reply is a socksError with its code.
func TestSocksConnect(t *testing.T) {
	ok := []byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	sent, err := socksReplay(t, ok)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{5, 1, 0, 5, 1, 0, 4}, netip.MustParseAddr("2001:db8::5").AsSlice()...)
	want = append(want, 1, 187)
	if string(sent) != string(want) {
		t.Fatalf("sent %v, want %v", sent, want)
	}
	_, err = socksReplay(t, []byte{5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
	var se socksError
	if !errors.As(err, &se) || se != socksRefused {
		t.Fatalf("refusal: %v", err)
	}
}

// FuzzSocksConnect: any server reply gives an error or success, never a
// panic or a hang.
func FuzzSocksConnect(f *testing.F) {
	f.Add([]byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{5, 0, 5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80})
	f.Add([]byte{5, 0, 5, 4, 0, 4})
	f.Fuzz(func(t *testing.T, reply []byte) {
		socksReplay(t, reply)
	})
}
