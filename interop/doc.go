// Package interop holds tests that run threeway against the Linux kernel's
// TCP over a TUN device inside network namespaces the tests create, and
// check every capture with tshark. They need root, /dev/net/tun and
// iproute2; elsewhere they skip and say why.
package interop
