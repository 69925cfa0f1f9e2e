package conform

import (
	"net/netip"
	"time"
)

// backend is a TCP implementation under test: the threeway stack on a
// virtual clock, or the Linux kernel in a network namespace. The runner
// drives it; every socket operation is non-blocking, and the runner
// makes calls on blocking sockets wait by retrying them as time moves.
type backend interface {
	// name is "threeway" or "linux".
	name() string
	// start readies the backend for a script; time 0 is now.
	start(cfg *Config) error
	// close releases everything the backend holds.
	close()
	// now is the time since start.
	now() time.Duration
	// step moves time toward until, returning early when something may
	// have happened: the threeway backend runs the stack's next timer
	// (or jumps to until), the Linux backend sleeps about a millisecond.
	step(until time.Duration)
	// settle lets the stack finish reacting to the last input.
	settle()
	// sent drains the packets the stack has written since the last call.
	sent() []sentPacket
	// inject hands an IP packet to the stack; gsoSize, when not zero,
	// makes it a GRO packet of segments of that payload (only with
	// Config.Offloads).
	inject(pkt []byte, gsoSize int) error
	// grace is how long a system call on a blocking socket may take to
	// complete before it counts as blocked.
	grace() time.Duration
	// minTolerance is the least timing slack the backend can keep to.
	minTolerance() time.Duration
	// maxWait bounds how long an outbound packet at "*" is waited for.
	maxWait() time.Duration
	// shell runs a shell line (packetdrill's command_spec) in dir, the
	// script's directory; note records what was not applied.
	shell(line, dir string, note func(string, ...any)) error
	// restartClock makes now 0 again: the init command ran before the
	// script's time began.
	restartClock()
	// socket creates a socket of type typ (SOCK_STREAM, ...) and
	// protocol proto (0 or IPPROTO_TCP for TCP).
	socket(v6 bool, typ, proto int) (sock, error)
}

// sentPacket is a packet the stack wrote and when.
type sentPacket struct {
	data []byte
	at   time.Duration
}

// sock is one socket, non-blocking. Errors are syscall.Errno values;
// EAGAIN means the call would block.
type sock interface {
	bind(ap netip.AddrPort) error
	listen(backlog int) error
	accept() (sock, error)
	// connect starts an active open: nil (connected), EINPROGRESS, or
	// an error.
	connect(ap netip.AddrPort) error
	// connectDone reports whether a connect in progress has finished,
	// and how.
	connectDone() (bool, error)
	write(n int) (int, error)
	// read returns 0, nil at the end of the stream.
	read(n int) (int, error)
	shutdown(how int) error
	close() error
	setsockopt(level, name int, v sockVal) error
	getsockopt(level, name int) (sockVal, error)
	// send sends n bytes with MSG_* flags, to "to" if it is valid
	// (sendto; MSG_FASTOPEN connects there).
	send(n, flags int, to netip.AddrPort) (int, error)
	// recv reads up to n bytes with MSG_* flags, returning the
	// message's flags (recvmsg's msg_flags) and its control messages.
	recv(n, flags int) (k, msgFlags int, cmsgs []cmsg, err error)
	// ioctl answers SIOCINQ and SIOCOUTQ.
	ioctl(req int) (int, error)
	// poll returns the poll(2) events ready now among events.
	poll(events int) int
	// info is the connection's tcp_info, by packetdrill's tcpi_ names.
	info() (map[string]int64, error)
}

// cmsg is a control message recvmsg returned: a socket error queue
// entry (IP_RECVERR) by sock_extended_err field, or another by its raw
// data.
type cmsg struct {
	level, typ int
	fields     map[string]int64
}

// sockVal is a socket option's value: an int, or SO_LINGER's pair.
type sockVal struct {
	Int int
	// Str, when IsStr, is a string or byte value (TCP_FASTOPEN_KEY,
	// TCP_CONGESTION).
	Str      string
	IsStr    bool
	IsLinger bool
	OnOff    int
	Seconds  int
}
