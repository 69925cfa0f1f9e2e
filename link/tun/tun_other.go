//go:build !linux

package tun

import (
	"errors"

	"github.com/threeway-tcp/threeway/link"
)

// Device is a TUN device; only Linux is supported.
type Device struct{ link.Link }

// Open fails on this platform.
func Open(name string, mtu int) (*Device, error) {
	return nil, errors.New("tun: only supported on Linux")
}
