// Package seqplot draws tcptrace-style time-sequence plots of one
// direction of a TCP connection as SVG: each segment a vertical bar from
// its first to its last sequence number at the time it was seen, the ACK
// line below them, the receive window's right edge above, SACK blocks,
// and retransmissions in their own colour, so loss recovery can be seen
// at a glance.
package seqplot
