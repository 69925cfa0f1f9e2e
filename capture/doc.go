// Package capture reads packet captures: classic pcap (microsecond and
// nanosecond, either byte order) and pcapng, as tcpdump, Wireshark and
// link.PcapWriter write them, with Ethernet, raw IP and Linux cooked
// (SLL and SLL2) link types. Packets are views into the capture's bytes;
// a capture that is cut short or malformed gives an error saying where,
// never a panic. Decode finds the TCP segment in a packet with wire's
// IPv4, IPv6 and TCP views.
package capture
