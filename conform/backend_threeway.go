package conform

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/internal/simnet"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// scriptLink is the link under a threeway stack in a script run: a
// simnet.Port, the stepped link the demo's world uses too. What the
// runner injects the stack has processed, replies written, when inject
// returns; what the stack writes is kept for the runner, stamped with the
// simulated time. The stack's reader runs only inside inject and the
// timers only inside the runner's Advance, so a run is the same every
// time.
type scriptLink struct {
	*simnet.Port
	clk   clock.Clock
	epoch time.Time

	mu  sync.Mutex
	out []sentPacket
}

func newScriptLink(mtu int, clk clock.Clock, epoch time.Time) *scriptLink {
	l := &scriptLink{clk: clk, epoch: epoch}
	l.Port = simnet.NewPort(mtu, l.record)
	return l
}

// offloadLink is a scriptLink with TSO and GRO.
type offloadLink struct{ *scriptLink }

var _ link.OffloadLink = offloadLink{}

func (l offloadLink) Offloads() link.Offloads {
	return link.Offloads{TSO4: true, TSO6: true, MaxPacket: 65535}
}

// WritePacketsInfo keeps large segments whole, as packetdrill sees a
// TSO device's packets.
func (l offloadLink) WritePacketsInfo(pkts [][]byte, info []link.PacketInfo) error {
	for i, p := range pkts {
		if i < len(info) && info[i].PartialChecksum {
			completeTCPChecksum(p)
		}
	}
	return l.WritePackets(pkts)
}

// completeTCPChecksum fills in the checksum of a packet whose TCP
// checksum holds only the pseudo-header sum.
func completeTCPChecksum(p []byte) {
	ipLen, _, ok := wire.TCPHeaders(p)
	if !ok {
		return
	}
	seg := wire.TCP(p[ipLen:])
	seg.SetChecksum(0)
	ip, err := wire.ParseIPPacket(p)
	if err != nil {
		return
	}
	seg.SetChecksum(wire.TCPChecksum(ip.Src(), ip.Dst(), seg))
}

// record keeps what the stack wrote.
func (l *scriptLink) record(pkts [][]byte) error {
	at := l.clk.Now().Sub(l.epoch)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range pkts {
		l.out = append(l.out, sentPacket{data: append([]byte(nil), p...), at: at})
	}
	return nil
}

// inject delivers p, a GRO segment of gsoSize, and waits until the stack
// has processed it.
func (l *scriptLink) inject(p []byte, gsoSize int) error {
	_, err := l.Deliver([][]byte{p}, []link.PacketInfo{{GSOSize: uint16(gsoSize)}})
	return err
}

func (l *scriptLink) drain() []sentPacket {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.out
	l.out = nil
	return out
}

// twBackend runs a script against a threeway Stack on a simulated clock
// that only the runner moves, so every run is the same.
type twBackend struct {
	cfg   *Config
	sim   *clock.Sim
	epoch time.Time
	tcp   tcp.Config
	mtu   int
	link  *scriptLink
	stack *threeway.Stack
	socks []*twSock
	// stuck counts steps in a row that did not move time.
	stuck int
	// Fast Open (RFC 7413) as the sysctls set it: Linux's
	// net.ipv4.tcp_fastopen bits and net.ipv4.tcp_fastopen_key.
	fastOpenFlags int
	fastOpenKey   *[16]byte
}

func newThreewayBackend() backend { return &twBackend{} }

func (b *twBackend) name() string { return "threeway" }

func (b *twBackend) start(cfg *Config) error {
	b.cfg = cfg
	b.epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.sim = clock.NewSim(b.epoch)
	b.tcp = tcp.DefaultConfig()
	// Unlike threeway, Linux never sends a TCP_FASTOPEN_CONNECT SYN
	// that waits for a write before the write comes: a year is forever
	// for a script.
	b.tcp.FastOpenConnectDelay = 365 * 24 * time.Hour
	b.mtu = cfg.MTU
	return nil
}

// ensureStack starts the stack at the first packet or socket call that
// needs it, so settings made before (sysctl lines, TCP_MAXSEG, buffer
// sizes) shape its configuration.
func (b *twBackend) ensureStack() error {
	if b.stack != nil {
		return nil
	}
	b.link = newScriptLink(b.mtu, b.sim, b.epoch)
	var l link.Link = b.link
	if b.cfg.Offloads {
		l = offloadLink{b.link}
	}
	secret := [16]byte{'t', 'h', 'r', 'e', 'e', 'w', 'a', 'y'}
	local4, local6 := DefaultLocal4, DefaultLocal6
	if b.cfg.IPv6 {
		local6 = b.cfg.LocalIP
	} else {
		local4 = b.cfg.LocalIP
	}
	s, err := threeway.New(threeway.Options{
		Link:      l,
		Addrs:     []netip.Prefix{netip.PrefixFrom(local4, 16), netip.PrefixFrom(local6, 48)},
		Clock:     b.sim,
		TCP:       b.tcp,
		ISNSecret: &secret,
	})
	if err != nil {
		return err
	}
	b.stack = s
	if k := b.fastOpenKey; k != nil {
		s.SetFastOpenKey(*k, *k)
	}
	return nil
}

func (b *twBackend) close() {
	if b.stack != nil {
		b.stack.Close()
	}
}

func (b *twBackend) now() time.Duration { return b.sim.Now().Sub(b.epoch) }

func (b *twBackend) step(until time.Duration) {
	now := b.now()
	if now >= until {
		return
	}
	target := until
	if next, ok := b.sim.Next(); ok {
		d := next.Sub(b.epoch)
		switch {
		case d <= now:
			b.stuck++
			if b.stuck < 1000 {
				target = now
			}
		case d < until:
			target = d
		}
	}
	if target > now {
		b.stuck = 0
	}
	b.sim.Advance(target - now)
}

func (b *twBackend) settle() { b.sim.Advance(0) }

func (b *twBackend) sent() []sentPacket {
	if b.link == nil {
		return nil
	}
	return b.link.drain()
}

func (b *twBackend) inject(pkt []byte, gsoSize int) error {
	if err := b.ensureStack(); err != nil {
		return err
	}
	return b.link.inject(pkt, gsoSize)
}

func (b *twBackend) grace() time.Duration        { return 0 }
func (b *twBackend) minTolerance() time.Duration { return 0 }
func (b *twBackend) maxWait() time.Duration      { return 10 * time.Minute }

func (b *twBackend) restartClock() {}

// shell interprets a shell line: threeway has no shell and no kernel.
func (b *twBackend) shell(line, dir string, note func(string, ...any)) error {
	return interpretShell(line, dir, shellHost{set: func(name, value string) (bool, error) {
		if b.stack != nil && name != "net.ipv4.tcp_fastopen" && name != "net.ipv4.tcp_fastopen_key" {
			// The Fast Open settings are the runner's own, read at each
			// use, so they still apply.
			note("sysctl %s=%s after the stack started: threeway's settings are fixed then, not applied", name, value)
			return true, nil
		}
		return b.sysctl(name, value)
	}, note: note}, 0)
}

// sysctl maps the Linux settings scripts use onto tcp.Config.
func (b *twBackend) sysctl(name, value string) (bool, error) {
	c := &b.tcp
	switch name {
	case "net.ipv4.tcp_fastopen_key":
		// Four hex words, each stored little-endian (Linux's
		// proc_tcp_fastopen_key); a second key after a comma is the
		// backup, which threeway sets to the primary.
		var k [16]byte
		words := strings.Split(strings.Split(value, ",")[0], "-")
		if len(words) != 4 {
			return false, fmt.Errorf("%s=%q: want four hex words", name, value)
		}
		for i, w := range words {
			v, err := strconv.ParseUint(w, 16, 32)
			if err != nil {
				return false, fmt.Errorf("%s=%q: %v", name, value, err)
			}
			binary.LittleEndian.PutUint32(k[4*i:], uint32(v))
		}
		b.fastOpenKey = &k
		if b.stack != nil {
			b.stack.SetFastOpenKey(k, k)
		}
		return true, nil
	case "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem":
		// "min default max": Linux offers its window scale for the
		// largest receive buffer and grows send buffers up to the
		// largest; threeway's one size per direction takes the largest
		// receive size and the default send size.
		f := strings.Fields(value)
		if len(f) != 3 {
			return false, fmt.Errorf("%s=%q: want three sizes", name, value)
		}
		def, err1 := strconv.Atoi(f[1])
		hi, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || def <= 0 || hi <= 0 {
			return false, fmt.Errorf("%s=%q: bad sizes", name, value)
		}
		if name == "net.ipv4.tcp_rmem" {
			c.RecvBuffer = hi
		} else {
			c.SendBuffer = def
		}
		return true, nil
	}
	n, err := strconv.ParseInt(value, 0, 64)
	if err != nil {
		return false, nil
	}
	if name == "net.ipv4.tcp_fastopen" {
		// 0x1 client, 0x2 server (with TCP_FASTOPEN), 0x400 server on
		// every listener; the other bits (no cookie needed, blackhole
		// tuning) have no equivalent and are ignored.
		b.fastOpenFlags = int(n)
		return true, nil
	}
	switch name {
	case "net.ipv4.tcp_syn_retries":
		c.SynRetries = int(n)
	case "net.ipv4.tcp_synack_retries":
		c.SynAckRetries = int(n)
	case "net.ipv4.tcp_retries2":
		c.Retries = int(n)
	case "net.ipv4.tcp_timestamps":
		c.NoTimestamps = n == 0
	case "net.ipv4.tcp_sack":
		c.NoSACK = n == 0
	case "net.ipv4.tcp_window_scaling":
		c.NoWindowScaling = n == 0
	case "net.ipv4.tcp_ecn": // 0 off, 1 ask and accept, 2 accept (RFC 3168)
		c.ECN = map[int64]tcp.ECNMode{0: tcp.ECNOff, 1: tcp.ECNOn}[n]
	default:
		return false, nil
	}
	return true, nil
}

func (b *twBackend) socket(v6 bool, typ, proto int) (sock, error) {
	// SOCK_NONBLOCK and SOCK_CLOEXEC ride in the type's high bits.
	if typ&0xf != syscall.SOCK_STREAM || proto != 0 && proto != syscall.IPPROTO_TCP {
		return nil, syscall.EPROTONOSUPPORT
	}
	s := &twSock{b: b, v6: v6}
	b.socks = append(b.socks, s)
	return s, nil
}

// twSock is a socket on the threeway stack: a listener or a connection,
// with the options a sockets program would have set on it.
type twSock struct {
	b        *twBackend
	v6       bool
	bound    netip.AddrPort
	ln       *threeway.Listener
	conn     *threeway.Conn
	closed   bool
	errShown bool // SO_ERROR reported the connection's error
	noDelay  bool
	linger0  bool
	sndBuf   int
	rcvBuf   int
	// fastOpenConnect is TCP_FASTOPEN_CONNECT; fastOpenQueue the
	// listener's TCP_FASTOPEN queue length.
	fastOpenConnect bool
	fastOpenQueue   int
	fo              fastOpenClient
	// synCnt is TCP_SYNCNT: zero means the stack's SynRetries.
	synCnt int
	// ka is SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT; zero
	// durations and count mean the stack's defaults.
	ka net.KeepAliveConfig
}

// applyKeepAlive hands the keepalive settings to the connection.
func (s *twSock) applyKeepAlive() {
	if s.conn == nil {
		return
	}
	cfg := s.ka
	if !cfg.Enable {
		cfg = net.KeepAliveConfig{Enable: false}
	}
	s.conn.SetKeepAliveConfig(cfg)
}

func (s *twSock) network() string {
	if s.v6 {
		return "tcp6"
	}
	return "tcp4"
}

func (s *twSock) bind(ap netip.AddrPort) error {
	if s.ln != nil || s.conn != nil {
		return syscall.EINVAL
	}
	s.bound = ap
	return nil
}

func (s *twSock) listen(backlog int) error {
	if s.conn != nil {
		return syscall.EINVAL
	}
	if s.ln != nil {
		s.ln.SetBacklog(0, acceptQueue(backlog))
		return nil
	}
	if err := s.b.ensureStack(); err != nil {
		return err
	}
	addr := s.bound
	if !addr.IsValid() {
		// listen without bind: an ephemeral port on any address.
		addr = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		if s.v6 {
			addr = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	ln, err := s.b.stack.ListenTCP(s.network(), net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return errnoFrom(err)
	}
	ln.SetBacklog(0, acceptQueue(backlog))
	if s.b.fastOpenFlags&0x400 != 0 {
		ln.SetFastOpen(max(backlog, 1))
	}
	s.ln = ln
	return nil
}

// acceptQueue is the accept queue for listen(fd, backlog): as in Linux,
// backlog+1 established connections may wait (the sockets API leaves the
// exact number to the implementation).
func acceptQueue(backlog int) int { return max(backlog, 0) + 1 }

func (s *twSock) accept() (sock, error) {
	if s.ln == nil {
		return nil, syscall.EINVAL
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := s.ln.AcceptContext(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, syscall.EAGAIN
		}
		return nil, errnoFrom(err)
	}
	child := &twSock{b: s.b, v6: s.v6, conn: c.(*threeway.Conn), noDelay: s.noDelay, linger0: s.linger0, ka: s.ka,
		fo: fastOpenClient{accepted: true, connected: true}}
	child.conn.SetNoDelay(child.noDelay)
	if child.ka.Enable {
		child.applyKeepAlive()
	}
	child.conn.SetLinger(lingerArg(child.linger0))
	s.b.socks = append(s.b.socks, child)
	return child, nil
}

func lingerArg(zero bool) int {
	if zero {
		return 0
	}
	return -1
}

func (s *twSock) connect(ap netip.AddrPort) error {
	if s.conn != nil {
		return s.connectAgain()
	}
	if err := s.b.ensureStack(); err != nil {
		return err
	}
	// connect() on packetdrill's O_NONBLOCK socket: EINPROGRESS, then
	// connectDone polls the handshake.
	d := &threeway.Dialer{
		Stack: s.b.stack, LocalAddr: s.bound, SendBuffer: s.sndBuf, RecvBuffer: s.rcvBuf,
		Nagle: !s.noDelay, FastOpen: s.fastOpenConnect && s.b.fastOpenFlags&1 != 0, Nonblock: true,
	}
	nc, err := d.Dial(s.network(), ap.String())
	if err != nil {
		return errnoFrom(err)
	}
	c := nc.(*threeway.Conn)
	c.SetLinger(lingerArg(s.linger0))
	c.SetSynRetries(s.synCnt)
	s.conn = c
	if s.ka.Enable {
		s.applyKeepAlive()
	}
	return s.connectResult()
}

// connectResult is nil once connected or while a Fast Open SYN waits for
// the first write, EINPROGRESS while the handshake runs, or the error
// that ended it.
func (s *twSock) connectResult() error {
	switch s.conn.State() {
	case tcp.SynSent, tcp.SynReceived:
		if s.synDeferred() {
			return nil
		}
		return syscall.EINPROGRESS
	case tcp.Closed:
		s.errShown = true
		if err := s.conn.SocketError(); err != nil {
			return err
		}
		return syscall.ECONNREFUSED
	}
	return nil
}

func (s *twSock) connectDone() (bool, error) {
	if s.conn == nil {
		return true, syscall.ENOTCONN
	}
	err := s.connectResult()
	if err == syscall.EINPROGRESS {
		return false, nil
	}
	s.fo.connected = err == nil
	return true, err
}

var zeros = make([]byte, 1<<20)

func (s *twSock) write(n int) (int, error) { return s.writeMode(n, !s.fo.nonblock) }

// writeMode is a write on a blocking socket or a non-blocking one.
func (s *twSock) writeMode(n int, blocking bool) (int, error) {
	if s.conn == nil {
		return 0, syscall.ENOTCONN
	}
	if n > len(zeros) {
		n = len(zeros)
	}
	switch st := s.conn.State(); {
	case st == tcp.SynSent || st == tcp.SynReceived && !s.fo.accepted:
		return s.writeConnecting(n, blocking)
	case s.fo.blocked:
		if k, ok := s.blockedDone(); ok {
			return k, nil
		}
	}
	switch st := s.conn.State(); {
	case st == tcp.Closed && s.errShown:
		// The sockets API reports a connection's error once; after
		// that the socket is just closed.
		return 0, syscall.EPIPE
	}
	k, err := s.conn.WriteNonblock(zeros[:n])
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) {
			return 0, syscall.EAGAIN
		}
		s.errShown = true
		return k, errnoFrom(err)
	}
	return k, nil
}

func (s *twSock) read(n int) (int, error) {
	if s.conn == nil {
		return 0, syscall.ENOTCONN
	}
	if s.errShown && s.conn.State() == tcp.Closed {
		return 0, nil
	}
	buf := make([]byte, n)
	k, err := s.conn.ReadNonblock(buf)
	if err != nil {
		switch {
		case err == io.EOF:
			return 0, nil
		case errors.Is(err, syscall.EAGAIN):
			return 0, syscall.EAGAIN
		}
		s.errShown = true
		return 0, errnoFrom(err)
	}
	return k, nil
}

func (s *twSock) shutdown(how int) error {
	if s.conn == nil {
		return syscall.ENOTCONN
	}
	if how == 1 || how == 2 {
		if err := s.conn.CloseWrite(); err != nil {
			return errnoFrom(err)
		}
	}
	if how == 0 || how == 2 {
		s.conn.CloseRead()
	}
	return nil
}

func (s *twSock) close() error {
	if s.closed {
		return syscall.EBADF
	}
	s.closed = true
	switch {
	case s.ln != nil:
		s.ln.Close()
	case s.conn != nil:
		s.conn.Close()
	}
	return nil
}

func (s *twSock) setsockopt(level, name int, v sockVal) error {
	if v.IsStr {
		return syscall.ENOPROTOOPT
	}
	switch {
	case level == solSocket && (name == soReuseAddr || name == soReusePort):
		return nil
	case level == solSocket && name == soKeepAlive || level == solTCP && (name == tcpKeepIdle || name == tcpKeepIntvl || name == tcpKeepCnt):
		if level == solTCP && v.Int < 1 {
			return syscall.EINVAL
		}
		switch {
		case level == solSocket:
			s.ka.Enable = v.Int != 0
		case name == tcpKeepIdle:
			s.ka.Idle = time.Duration(v.Int) * time.Second
		case name == tcpKeepIntvl:
			s.ka.Interval = time.Duration(v.Int) * time.Second
		default:
			s.ka.Count = v.Int
		}
		s.applyKeepAlive()
		return nil
	case level == solSocket && name == soLinger:
		s.linger0 = v.OnOff != 0 && v.Seconds == 0
		if s.conn != nil {
			s.conn.SetLinger(lingerArg(s.linger0))
		}
		return nil
	case level == solSocket && (name == soRcvBuf || name == soSndBuf):
		if name == soRcvBuf {
			s.rcvBuf = v.Int
		} else {
			s.sndBuf = v.Int
		}
		switch {
		case s.conn != nil:
			if name == soRcvBuf {
				s.conn.SetReadBuffer(v.Int)
			} else {
				s.conn.SetWriteBuffer(v.Int)
			}
		case s.b.stack == nil:
			// Listeners' children take the stack's sizes.
			if name == soRcvBuf {
				s.b.tcp.RecvBuffer = v.Int
			} else {
				s.b.tcp.SendBuffer = v.Int
			}
		}
		return nil
	case level == solTCP && name == tcpFastOpen:
		if s.b.fastOpenFlags&2 == 0 {
			return syscall.ENOPROTOOPT
		}
		s.fastOpenQueue = v.Int
		if s.ln != nil {
			s.ln.SetFastOpen(v.Int)
		}
		return nil
	case level == solTCP && name == tcpFastOpenConnect:
		switch {
		case s.b.fastOpenFlags&1 == 0:
			return syscall.EOPNOTSUPP // Linux: the client bit is off
		case s.conn != nil:
			return syscall.EINVAL // Linux: only in the CLOSE state
		}
		s.fastOpenConnect = v.Int != 0
		return nil
	case level == solTCP && name == tcpSynCnt:
		if v.Int < 1 || v.Int > 127 { // Linux's MAX_TCP_SYNCNT
			return syscall.EINVAL
		}
		s.synCnt = v.Int
		if s.conn != nil {
			s.conn.SetSynRetries(v.Int)
		}
		return nil
	case level == solTCP && name == tcpNoDelay:
		s.noDelay = v.Int != 0
		if s.conn != nil {
			s.conn.SetNoDelay(s.noDelay)
		}
		return nil
	case level == solTCP && name == tcpMaxSeg:
		if s.b.stack != nil || v.Int < 88 {
			// The core has no per-connection MSS: the link MTU sets
			// it, so it can only be chosen before the stack starts.
			return syscall.ENOPROTOOPT
		}
		s.b.mtu = v.Int + s.b.cfg.headerLen()
		return nil
	}
	return syscall.ENOPROTOOPT
}

func (s *twSock) getsockopt(level, name int) (sockVal, error) {
	switch {
	case level == solSocket && name == soError:
		if s.conn == nil || s.errShown {
			return sockVal{}, nil
		}
		if err := s.conn.SocketError(); err != nil {
			s.errShown = true
			return sockVal{Int: int(asErrno(err))}, nil
		}
		return sockVal{}, nil
	case level == solSocket && name == soLinger:
		if s.linger0 {
			return sockVal{IsLinger: true, OnOff: 1}, nil
		}
		return sockVal{IsLinger: true}, nil
	case level == solTCP && name == tcpSynCnt:
		if s.synCnt > 0 {
			return sockVal{Int: s.synCnt}, nil
		}
		return sockVal{Int: s.b.tcp.SynRetries}, nil
	case level == solTCP && name == tcpNoDelay:
		if s.noDelay {
			return sockVal{Int: 1}, nil
		}
		return sockVal{}, nil
	case level == solSocket && name == soKeepAlive:
		if s.ka.Enable {
			return sockVal{Int: 1}, nil
		}
		return sockVal{}, nil
	case level == solSocket && name == soRcvBuf:
		if s.rcvBuf > 0 {
			return sockVal{Int: s.rcvBuf}, nil
		}
		return sockVal{Int: s.b.tcp.RecvBuffer}, nil
	case level == solSocket && name == soSndBuf:
		if s.sndBuf > 0 {
			return sockVal{Int: s.sndBuf}, nil
		}
		return sockVal{Int: s.b.tcp.SendBuffer}, nil
	case level == solTCP && name == tcpMaxSeg:
		if s.conn != nil {
			return sockVal{Int: int(s.conn.Negotiated().SendMSS)}, nil
		}
		return sockVal{Int: s.b.mtu - s.b.cfg.headerLen()}, nil
	}
	return sockVal{}, syscall.ENOPROTOOPT
}

// errnoFrom digs the errno out of a runtime error.
func errnoFrom(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, net.ErrClosed):
		return syscall.EBADF
	case errors.Is(err, os.ErrDeadlineExceeded):
		return syscall.EAGAIN
	}
	var ae *net.AddrError
	if errors.As(err, &ae) && ae.Err == "address already in use" {
		return syscall.EADDRINUSE
	}
	return syscall.EINVAL
}
