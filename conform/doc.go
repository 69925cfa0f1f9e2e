// Package conform runs packetdrill scripts against threeway and against
// the Linux kernel.
//
// A script (packetdrill's language: timed lines that inject packets, expect
// packets and make system calls) is parsed by this package's own lexer and
// parser, then run by a runner on a backend:
//
//   - threeway: a real threeway.Stack on a link the runner scripts, with a
//     simulated clock the runner moves from event to event, so a run is
//     deterministic and takes no real time.
//   - linux: the kernel's TCP in a network namespace made for the run,
//     with a TUN device for the packets and real sockets for the system
//     calls, in real time, as packetdrill itself works.
//
// Sequence numbers are packetdrill's: the script side's SYN is absolute
// (and so is the ack of the stack's SYN-ACK), its other segments are
// relative to that SYN, the stack's relative to the ISN of its first SYN
// or SYN-ACK. Shell lines run in the Linux backend's namespace; threeway
// maps the settings it has and fails on other commands (shell.go);
// %{ }% blocks are evaluated against tcp_info (pyeval.go). TCP
// options compare as a set unless --strict_options is given. Where the
// kernel and RFC 9293 disagree, a script carries a "// linux-differs:
// REASON" comment: on Linux it is then expected to fail, and a pass is
// reported as a stale marker.
//
// Extensions to packetdrill's language: "[conn N]" after a packet's
// direction names the Nth connection of a script (for backlog tests);
// --ignore_psh leaves the PSH bit of outbound packets unchecked;
// "// linux-skip" and
// "// threeway-skip" at the end of a line skip that line on one backend,
// and "// linux-only: REASON" skips the script on threeway.
package conform
