package link

import "errors"

// Link carries IP packets (raw IPv4/IPv6, no link-layer header) for one stack.
type Link interface {
	// MTU is the largest packet, in bytes, the link accepts.
	MTU() int
	// WritePackets sends each packet; the link copies what it keeps, so
	// callers may reuse buffers on return.
	WritePackets(pkts [][]byte) error
	// ReadPackets blocks until at least one packet is available, copies up
	// to len(bufs) packets into bufs (each truncated to len(bufs[i])), sets
	// sizes[i], and returns the count. After Close it returns ErrClosed
	// (also waking a blocked reader).
	ReadPackets(bufs [][]byte, sizes []int) (int, error)
	// Close stops the link.
	Close() error
}

// ErrClosed is returned by the methods of a closed Link.
var ErrClosed = errors.New("link: closed")

// ErrTooBig is returned by WritePackets when a packet exceeds the MTU.
var ErrTooBig = errors.New("link: packet larger than MTU")
