//go:build linux

package tun

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"github.com/threeway-tcp/threeway/link"
)

// Linux's <linux/if_tun.h> and <linux/sockios.h> constants.
const (
	tunSetIff   = 0x400454ca // TUNSETIFF
	iffTun      = 0x0001
	iffNoPI     = 0x1000
	siocGifMTU  = 0x8921
	ifNameSize  = 16
	ifreqSize   = 40
	defaultMTU  = 1500
	maxPacket   = 65535
	readBatches = 64
)

// Device is an open TUN device. It implements link.Link.
type Device struct {
	f    *os.File
	rc   syscall.RawConn
	name string
	mtu  int

	closeOnce sync.Once
}

var _ link.Link = (*Device)(nil)

type ifreq struct {
	name  [ifNameSize]byte
	flags uint16
	_     [ifreqSize - ifNameSize - 2]byte
}

type ifreqMTU struct {
	name [ifNameSize]byte
	mtu  int32
	_    [ifreqSize - ifNameSize - 4]byte
}

// Open attaches to the TUN device called name in the calling thread's
// network namespace, creating it if it does not exist (a device made
// beforehand with `ip tuntap add dev NAME mode tun` is simply attached).
// mtu 0 reads the device's MTU.
func Open(name string, mtu int) (*Device, error) {
	if len(name) == 0 || len(name) >= ifNameSize {
		return nil, fmt.Errorf("tun: bad device name %q", name)
	}
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tun: open /dev/net/tun: %w", err)
	}
	var req ifreq
	copy(req.name[:], name)
	req.flags = iffTun | iffNoPI
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req))); e != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("tun: TUNSETIFF %s: %w", name, e)
	}
	if mtu <= 0 {
		if mtu, err = deviceMTU(name); err != nil {
			mtu = defaultMTU
		}
	}
	// Non-blocking, so the runtime poller waits for us and Close wakes a
	// blocked reader.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("tun: set non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Device{f: f, rc: rc, name: name, mtu: mtu}, nil
}

func deviceMTU(name string) (int, error) {
	s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(s)
	var req ifreqMTU
	copy(req.name[:], name)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(s), siocGifMTU, uintptr(unsafe.Pointer(&req))); e != 0 {
		return 0, e
	}
	return int(req.mtu), nil
}

// Name returns the device's name.
func (d *Device) Name() string { return d.name }

// MTU returns the device's MTU.
func (d *Device) MTU() int { return d.mtu }

// ReadPackets waits for at least one packet, then takes every packet the
// device has ready, up to len(bufs).
func (d *Device) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) {
			m, err := syscall.Read(int(fd), bufs[n])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				return n > 0
			}
			if err != nil {
				rerr = err
				return true
			}
			if m > len(bufs[n]) {
				// The kernel reports a packet's full length even when
				// the buffer cut it short: drop it.
				continue
			}
			sizes[n] = m
			n++
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return 0, link.ErrClosed
		}
		return 0, err
	}
	return 0, rerr
}

// WritePackets writes each packet to the device. A packet the kernel
// refuses is dropped (IP is best effort); the first error is returned.
func (d *Device) WritePackets(pkts [][]byte) error {
	var first error
	i := 0
	err := d.rc.Write(func(fd uintptr) bool {
		for i < len(pkts) {
			_, err := syscall.Write(int(fd), pkts[i])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				return false
			}
			if err != nil && first == nil {
				first = err
			}
			i++
		}
		return true
	})
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return link.ErrClosed
		}
		return err
	}
	return first
}

// Close detaches from the device; a persistent device stays.
func (d *Device) Close() error {
	var err error
	d.closeOnce.Do(func() { err = d.f.Close() })
	return err
}
