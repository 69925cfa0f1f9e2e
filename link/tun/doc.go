// Package tun is a link.Link on a Linux TUN device: raw IPv4 and IPv6
// packets, no link-layer header (IFF_TUN|IFF_NO_PI).
package tun
