//go:build !linux

package tun

import (
	"errors"

	"github.com/threeway-tcp/threeway/link"
)

// Device is a TUN device; only Linux is supported.
type Device struct{ link.Link }

// Options configures OpenOptions.
type Options struct {
	MTU     int
	VnetHdr bool
}

// Open fails on this platform.
func Open(name string, mtu int) (*Device, error) {
	return nil, errors.New("tun: only supported on Linux")
}

// OpenOptions fails on this platform.
func OpenOptions(name string, opts Options) (*Device, error) {
	return Open(name, opts.MTU)
}
