// Package wire is threeway's codec for the TCP, IPv4 and IPv6 wire formats,
// built as zero-copy views over byte slices.
//
// Parsing never allocates and never panics, whatever the input: a malformed
// header or option is rejected with one of the named Error constants.
// Accessors on a view (TCP, IPv4, IPv6) are only valid on a view returned by
// the matching Parse function or built by the matching Encode function.
// Serialization writes into a buffer the caller owns and reports the bytes
// written, or 0 when the buffer is too small.
//
// References: RFC 9293 (TCP header, §3.1; options, §3.2), RFC 7323 (window
// scale and timestamps), RFC 2018 (SACK), RFC 791 (IPv4), RFC 8200 (IPv6)
// and RFC 1071 (the Internet checksum).
package wire
