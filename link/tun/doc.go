// Package tun is a link.Link on a Linux TUN device: raw IPv4 and IPv6
// packets, no link-layer header (IFF_TUN|IFF_NO_PI). Opened with
// Options.VnetHdr it is a link.OffloadLink: every packet carries a
// virtio-net header (IFF_VNET_HDR), so the stack and the kernel exchange
// 64 KiB TCP segments with partial checksums, and the kernel cuts and
// checksums what goes to the wire.
package tun
