//go:build linux

package tun

import (
	"errors"
	"os"
	"syscall"
	"unsafe"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// batchIO is one direction's state for a batch of reads or writes: the
// poller calls its bound method until the device has no more packets (or
// room), and nothing is allocated per packet or per batch.
type batchIO struct {
	d    *Device
	hdr  [wire.VirtioNetHdrLen]byte
	iov  [2]syscall.Iovec
	fn   func(fd uintptr) bool // bound once: a method value per call would allocate
	bufs [][]byte
	size []int
	info []link.PacketInfo
	n    int
	err  error
}

func (b *batchIO) init(d *Device, read bool) {
	b.d = d
	if read {
		b.fn = b.readSome
	} else {
		b.fn = b.writeSome
	}
}

// ReadPackets waits for at least one packet, then takes every packet the
// device has ready, up to len(bufs). On a device with a virtio-net header
// it completes partial checksums and drops packets with a malformed
// header; a stack wanting large segments as they are uses ReadPacketsInfo.
func (d *Device) ReadPackets(bufs [][]byte, sizes []int) (int, error) {
	return d.read(bufs, sizes, nil)
}

// ReadPacketsInfo implements link.OffloadLink: it also reports each
// packet's offload metadata (a coalesced segment's GSO size, a partial or
// already checked checksum, or why its header is refused).
func (d *Device) ReadPacketsInfo(bufs [][]byte, sizes []int, info []link.PacketInfo) (int, error) {
	return d.read(bufs, sizes, info[:min(len(info), len(bufs))])
}

func (d *Device) read(bufs [][]byte, sizes []int, info []link.PacketInfo) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	d.rmu.Lock()
	defer d.rmu.Unlock()
	b := &d.rd
	b.bufs, b.size, b.info, b.n, b.err = bufs[:min(len(bufs), len(sizes))], sizes, info, 0, nil
	err := d.rc.Read(b.fn)
	n, rerr := b.n, b.err
	b.bufs, b.size, b.info = nil, nil, nil
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

func (b *batchIO) readSome(fd uintptr) bool {
	for b.n < len(b.bufs) {
		buf := b.bufs[b.n]
		m, err := b.readOne(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return b.n > 0
		}
		if err != nil {
			b.err = err
			return true
		}
		if m > len(buf) {
			// The kernel reports a packet's full length even when
			// the buffer cut it short: drop it.
			continue
		}
		if b.d.vnet && !b.offloadInfo(buf[:m]) {
			continue
		}
		b.size[b.n] = m
		b.n++
	}
	return true
}

// readOne reads one packet into buf, its virtio-net header (if any) into
// b.hdr, and returns the packet's length.
func (b *batchIO) readOne(fd uintptr, buf []byte) (int, error) {
	if !b.d.vnet {
		return syscall.Read(int(fd), buf)
	}
	if len(buf) == 0 {
		return 0, syscall.EINVAL
	}
	b.iov[0].Base = &b.hdr[0]
	b.iov[0].SetLen(len(b.hdr))
	b.iov[1].Base = &buf[0]
	b.iov[1].SetLen(len(buf))
	r, _, e := syscall.Syscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&b.iov[0])), 2)
	if e != 0 {
		return 0, e
	}
	if int(r) < len(b.hdr) {
		return 0, syscall.EINVAL
	}
	return int(r) - len(b.hdr), nil
}

// offloadInfo reads b.hdr for pkt into b.info[b.n]. Without an info slice
// (plain ReadPackets) it finishes partial checksums itself and reports
// false for a packet to drop.
func (b *batchIO) offloadInfo(pkt []byte) bool {
	h, err := wire.ParseVirtioNetHdr(b.hdr[:])
	if err == nil {
		err = h.Check(pkt)
	}
	if b.info == nil {
		if err != nil {
			return false
		}
		if h.NeedsCsum() {
			wire.CompleteChecksum(pkt, h.CsumStart(), h.CsumOffset())
		}
		return true
	}
	in := &b.info[b.n]
	*in = link.PacketInfo{}
	if err != nil {
		in.Err = err
		return true
	}
	if h.GSOType() != wire.VirtioGSONone {
		in.GSOSize = uint16(h.GSOSize())
	}
	in.ChecksumValid = h.DataValid()
	if h.PartialTCP(pkt) {
		in.PartialChecksum = true
	} else if h.NeedsCsum() {
		// Not TCP's: finish it here, so the stack sees a whole packet.
		wire.CompleteChecksum(pkt, h.CsumStart(), h.CsumOffset())
	}
	return true
}

// Offloads implements link.OffloadLink.
func (d *Device) Offloads() link.Offloads { return d.off }

// WritePackets writes each packet to the device. A packet the kernel
// refuses is dropped (IP is best effort); the first error is returned.
func (d *Device) WritePackets(pkts [][]byte) error {
	return d.write(pkts, nil)
}

// WritePacketsInfo implements link.OffloadLink: a packet with a GSO size
// is written once and cut by the kernel; a partial checksum is completed
// by the kernel (or never, for a packet delivered locally).
func (d *Device) WritePacketsInfo(pkts [][]byte, info []link.PacketInfo) error {
	return d.write(pkts, info)
}

func (d *Device) write(pkts [][]byte, info []link.PacketInfo) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	b := &d.wr
	b.bufs, b.info, b.n, b.err = pkts, info, 0, nil
	err := d.rc.Write(b.fn)
	first := b.err
	b.bufs, b.info = nil, nil
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return link.ErrClosed
		}
		return err
	}
	return first
}

func (b *batchIO) writeSome(fd uintptr) bool {
	for b.n < len(b.bufs) {
		err := b.writeOne(fd, b.bufs[b.n])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return false
		}
		if err != nil && b.err == nil {
			b.err = err
		}
		b.n++
	}
	return true
}

func (b *batchIO) writeOne(fd uintptr, pkt []byte) error {
	if !b.d.vnet {
		_, err := syscall.Write(int(fd), pkt)
		return err
	}
	if len(pkt) == 0 {
		return syscall.EINVAL
	}
	var in *link.PacketInfo
	if b.n < len(b.info) {
		in = &b.info[b.n]
	}
	b.encodeHdr(pkt, in)
	b.iov[0].Base = &b.hdr[0]
	b.iov[0].SetLen(len(b.hdr))
	b.iov[1].Base = &pkt[0]
	b.iov[1].SetLen(len(pkt))
	_, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&b.iov[0])), 2)
	if e != 0 {
		return e
	}
	return nil
}

// encodeHdr writes the virtio-net header for pkt into b.hdr: NEEDS_CSUM on
// the TCP checksum for a partial checksum, and for a large segment the GSO
// type of its IP version with gso_size and hdr_len (what Linux's
// virtio_net_hdr_to_skb needs to cut it).
func (b *batchIO) encodeHdr(pkt []byte, in *link.PacketInfo) {
	var f wire.VirtioNetHdrFields
	if in != nil && (in.PartialChecksum || in.GSOSize > 0) {
		if ipLen, tcpLen, ok := wire.TCPHeaders(pkt); ok {
			f.Flags = wire.VirtioNeedsCsum
			f.CsumStart, f.CsumOffset = uint16(ipLen), 16
			if !in.PartialChecksum {
				toPartial(pkt, ipLen)
			}
			if in.GSOSize > 0 && len(pkt)-ipLen-tcpLen > int(in.GSOSize) {
				f.GSOType = wire.VirtioGSOTCPv4
				if wire.IPVersion(pkt) == 6 {
					f.GSOType = wire.VirtioGSOTCPv6
				}
				f.GSOSize = in.GSOSize
				f.HdrLen = uint16(ipLen + tcpLen)
			}
		}
	}
	wire.EncodeVirtioNetHdr(b.hdr[:], &f)
}

// toPartial replaces a complete TCP checksum with the pseudo-header sum
// that NEEDS_CSUM wants.
func toPartial(pkt []byte, ipLen int) {
	var seg wire.TCP = pkt[ipLen:]
	if wire.IPVersion(pkt) == 4 {
		ip := wire.IPv4(pkt)
		seg.SetChecksum(wire.PartialTCPChecksum(ip.Src(), ip.Dst(), len(seg)))
	} else {
		ip := wire.IPv6(pkt)
		seg.SetChecksum(wire.PartialTCPChecksum(ip.Src(), ip.Dst(), len(seg)))
	}
}
