//go:build linux

package tun

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// Linux's <linux/if_tun.h> and <linux/sockios.h> constants.
const (
	tunSetIff       = 0x400454ca // TUNSETIFF
	tunSetOffload   = 0x400454d0 // TUNSETOFFLOAD
	tunSetVnetHdrSz = 0x400454d8 // TUNSETVNETHDRSZ
	iffTun          = 0x0001
	iffNoPI         = 0x1000
	iffVnetHdr      = 0x4000
	tunFCsum        = 0x01
	tunFTSO4        = 0x02
	tunFTSO6        = 0x04
	tunFUSO4        = 0x20 // Linux 6.2
	tunFUSO6        = 0x40
	siocGifMTU      = 0x8921
	ifNameSize      = 16
	ifreqSize       = 40
	defaultMTU      = 1500
	// maxPacket is the largest packet with offloads: a 64 KiB GSO
	// segment plus its IPv6 header (the payload length field excludes it).
	maxPacket = 65535 + 40
)

// Options configures Open.
type Options struct {
	MTU int // 0: the device's
	// VnetHdr asks for the virtio-net header (IFF_VNET_HDR) and, with it,
	// checksum and segmentation offloads (TUNSETOFFLOAD): large TCP
	// segments in both directions. A kernel that refuses gets the plain
	// device; Device.Offloads says what was agreed.
	VnetHdr bool
}

// Device is an open TUN device. It implements link.Link, and
// link.OffloadLink when opened with a virtio-net header.
type Device struct {
	f    *os.File
	rc   syscall.RawConn
	name string
	mtu  int
	vnet bool // every packet has a virtio-net header before it
	off  link.Offloads

	rmu sync.Mutex
	rd  batchIO
	wmu sync.Mutex
	wr  batchIO

	closeOnce sync.Once
}

var _ link.OffloadLink = (*Device)(nil)

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
// mtu 0 reads the device's MTU. The device has no offloads; see
// OpenOptions.
func Open(name string, mtu int) (*Device, error) {
	return OpenOptions(name, Options{MTU: mtu})
}

// OpenOptions is Open with options.
func OpenOptions(name string, opts Options) (*Device, error) {
	if len(name) == 0 || len(name) >= ifNameSize {
		return nil, fmt.Errorf("tun: bad device name %q", name)
	}
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tun: open /dev/net/tun: %w", err)
	}
	vnet := opts.VnetHdr
	if err := setIff(fd, name, vnet); err != nil && vnet {
		// A kernel without IFF_VNET_HDR: the plain device.
		vnet = false
		err = setIff(fd, name, false)
		if err != nil {
			syscall.Close(fd)
			return nil, err
		}
	} else if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	var off link.Offloads
	if vnet {
		off = negotiateOffloads(fd)
	}
	mtu := opts.MTU
	if mtu <= 0 {
		if mtu, err = deviceMTU(name); err != nil {
			mtu = defaultMTU
		}
	}
	if off.TSO4 || off.TSO6 {
		off.MaxPacket = maxPacket
	} else {
		off.MaxPacket = mtu
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
	d := &Device{f: f, rc: rc, name: name, mtu: mtu, vnet: vnet, off: off}
	d.rd.init(d, true)
	d.wr.init(d, false)
	return d, nil
}

func setIff(fd int, name string, vnet bool) error {
	var req ifreq
	copy(req.name[:], name)
	req.flags = iffTun | iffNoPI
	if vnet {
		req.flags |= iffVnetHdr
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("tun: TUNSETIFF %s: %w", name, e)
	}
	return nil
}

// negotiateOffloads sets the header size and asks for the offloads, the
// newest first: a kernel refuses flags it does not know (EINVAL), so
// UDP segmentation (Linux 6.2) is dropped first, then segmentation, then
// the checksum.
func negotiateOffloads(fd int) link.Offloads {
	sz := int32(wire.VirtioNetHdrLen)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetVnetHdrSz, uintptr(unsafe.Pointer(&sz))); e != 0 {
		return link.Offloads{}
	}
	for _, flags := range []uintptr{
		tunFCsum | tunFTSO4 | tunFTSO6 | tunFUSO4 | tunFUSO6,
		tunFCsum | tunFTSO4 | tunFTSO6,
		tunFCsum,
	} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetOffload, flags); e == 0 {
			return link.Offloads{
				Checksum: true,
				TSO4:     flags&tunFTSO4 != 0, TSO6: flags&tunFTSO6 != 0,
				USO4: flags&tunFUSO4 != 0, USO6: flags&tunFUSO6 != 0,
			}
		}
	}
	return link.Offloads{}
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

// Close detaches from the device; a persistent device stays.
func (d *Device) Close() error {
	var err error
	d.closeOnce.Do(func() { err = d.f.Close() })
	return err
}
