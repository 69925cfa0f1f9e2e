package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// socksError is a SOCKS5 CONNECT reply code other than success
// (RFC 1928 §6).
type socksError byte

const (
	socksGeneral     socksError = 1
	socksNotAllowed  socksError = 2
	socksNetUnreach  socksError = 3
	socksHostUnreach socksError = 4
	socksRefused     socksError = 5
	socksTTLExpired  socksError = 6
)

func (e socksError) Error() string {
	return fmt.Sprintf("socks5: CONNECT failed with reply %d", byte(e))
}

var errSocksProtocol = errors.New("socks5: malformed reply")

// socksConnect asks the SOCKS5 server on c to connect to dst, without
// authentication (RFC 1928 §3, §4), within ctx's deadline.
func socksConnect(ctx context.Context, c net.Conn, dst netip.AddrPort) error {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// Greeting: version 5, one method, "no authentication required".
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var choice [2]byte
	if _, err := io.ReadFull(c, choice[:]); err != nil {
		return err
	}
	if choice[0] != 5 || choice[1] != 0 {
		return errSocksProtocol
	}
	req := []byte{5, 1, 0} // CONNECT
	if dst.Addr().Is4() {
		a := dst.Addr().As4()
		req = append(append(req, 1), a[:]...)
	} else {
		a := dst.Addr().As16()
		req = append(append(req, 4), a[:]...)
	}
	req = binary.BigEndian.AppendUint16(req, dst.Port())
	if _, err := c.Write(req); err != nil {
		return err
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return err
	}
	if head[0] != 5 {
		return errSocksProtocol
	}
	if head[1] != 0 {
		return socksError(head[1])
	}
	var rest int
	switch head[3] {
	case 1:
		rest = 4 + 2
	case 4:
		rest = 16 + 2
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return err
		}
		rest = int(n[0]) + 2
	default:
		return errSocksProtocol
	}
	_, err := io.ReadFull(c, make([]byte, rest))
	return err
}
