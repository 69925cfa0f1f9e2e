package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// LinkType is a capture's LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// The link types Network understands.
const (
	LinkNull      LinkType = 0   // BSD loopback: a 4-byte address family in the capturing host's order
	LinkEthernet  LinkType = 1   // Ethernet II, with 802.1Q / 802.1ad tags
	LinkRaw       LinkType = 101 // raw IP, version from the first nibble
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture, v1 ("tcpdump -i any")
	LinkIPv4      LinkType = 228
	LinkIPv6      LinkType = 229
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture, v2
	linkRawBSD    LinkType = 12  // DLT_RAW's number on some BSDs, written by older libpcap
	linkLoop      LinkType = 108 // OpenBSD loopback: like Null, big-endian
)

func (t LinkType) String() string {
	switch t {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRaw, linkRawBSD:
		return "RAW"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case linkLoop:
		return "LOOP"
	}
	return fmt.Sprintf("LINKTYPE_%d", uint16(t))
}

// EtherTypes that carry IP, and the VLAN tags that may come before.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	ethHeader   = 14
	sllHeader   = 16
	sll2Header  = 20
	vlanTag     = 4
	maxVLANTags = 2
)

// Reasons Network gives for a packet it cannot find IP in.
var (
	ErrLinkType  = errors.New("link type not supported")
	ErrLinkShort = errors.New("packet shorter than its link header")
	ErrNotIP     = errors.New("not an IP packet")
)

// Network returns the IP packet inside a link-layer frame of type t: a
// view into frame.
func Network(t LinkType, frame []byte) ([]byte, error) {
	switch t {
	case LinkRaw, linkRawBSD, LinkIPv4, LinkIPv6:
		return frame, nil
	case LinkEthernet:
		if len(frame) < ethHeader {
			return nil, ErrLinkShort
		}
		et, off := binary.BigEndian.Uint16(frame[12:]), ethHeader
		for i := 0; i < maxVLANTags && (et == etherVLAN || et == etherQinQ); i++ {
			if len(frame) < off+vlanTag {
				return nil, ErrLinkShort
			}
			et, off = binary.BigEndian.Uint16(frame[off+2:]), off+vlanTag
		}
		return etherIP(et, frame[off:])
	case LinkLinuxSLL:
		// packet type, ARPHRD type, address length, 8 address bytes, protocol
		if len(frame) < sllHeader {
			return nil, ErrLinkShort
		}
		return etherIP(binary.BigEndian.Uint16(frame[14:]), frame[sllHeader:])
	case LinkLinuxSLL2:
		// protocol, reserved, interface index, ARPHRD type, packet type,
		// address length, 8 address bytes
		if len(frame) < sll2Header {
			return nil, ErrLinkShort
		}
		return etherIP(binary.BigEndian.Uint16(frame[0:]), frame[sll2Header:])
	case LinkNull, linkLoop:
		// The family is in the capturing host's byte order (Null) or
		// network order (Loop); AF_INET is 2 everywhere, AF_INET6 varies
		// (24, 28, 30), so the IP version nibble decides.
		if len(frame) < 4 {
			return nil, ErrLinkShort
		}
		return frame[4:], nil
	}
	return nil, ErrLinkType
}

func etherIP(et uint16, b []byte) ([]byte, error) {
	if et != etherIPv4 && et != etherIPv6 {
		return nil, ErrNotIP
	}
	return b, nil
}
