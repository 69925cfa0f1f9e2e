package conform

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Linux's values for the symbols scripts use.
var symbols = map[string]int64{
	"AF_INET": 2, "AF_INET6": 10, "PF_INET": 2, "PF_INET6": 10, "AF_UNSPEC": 0,
	"SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17, "IPPROTO_IP": 0, "IPPROTO_IPV6": 41,
	"SOL_TCP": 6, "SOL_SOCKET": 1, "SOL_IP": 0, "SOL_IPV6": 41, "SOL_UDP": 17,
	"SO_REUSEADDR": 2, "SO_ERROR": 4, "SO_SNDBUF": 7, "SO_RCVBUF": 8, "SO_KEEPALIVE": 9,
	"SO_LINGER": 13, "SO_REUSEPORT": 15, "SO_RCVLOWAT": 18, "SO_SNDLOWAT": 19, "SO_TIMESTAMPING": 37,
	"SO_MARK": 36, "SO_ZEROCOPY": 60, "SO_MAX_PACING_RATE": 47,
	"TCP_NODELAY": 1, "TCP_MAXSEG": 2, "TCP_CORK": 3, "TCP_KEEPIDLE": 4, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 6,
	"TCP_SYNCNT": 7, "TCP_LINGER2": 8, "TCP_DEFER_ACCEPT": 9, "TCP_WINDOW_CLAMP": 10, "TCP_INFO": 11,
	"TCP_QUICKACK": 12, "TCP_CONGESTION": 13, "TCP_MD5SIG": 14, "TCP_USER_TIMEOUT": 18, "TCP_FASTOPEN": 23,
	"TCP_TIMESTAMP": 24, "TCP_NOTSENT_LOWAT": 25, "TCP_FASTOPEN_CONNECT": 30, "TCP_FASTOPEN_KEY": 33,
	"TCP_FASTOPEN_NO_COOKIE": 34, "TCP_INQ": 36, "TCP_CM_INQ": 36, "TCP_TX_DELAY": 37,
	// TCP_NOOPT is FreeBSD's (other stacks' suites use it); Linux has
	// no such option, so it gets a number no Linux option has.
	"TCP_NOOPT": 0x7fff0008,
	"IP_TOS":    1, "IP_TTL": 2, "IP_MTU_DISCOVER": 10, "IP_RECVERR": 11, "IP_FREEBIND": 15, "IPV6_RECVERR": 25,
	"IPV6_TCLASS": 67, "IP_PMTUDISC_DONT": 0, "IP_PMTUDISC_WANT": 1, "IP_PMTUDISC_DO": 2, "IP_PMTUDISC_PROBE": 3,
	"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2,
	"F_GETFL": 3, "F_SETFL": 4, "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_NONBLOCK": 0x800,
	"MSG_OOB": 1, "MSG_PEEK": 2, "MSG_DONTROUTE": 4, "MSG_TRUNC": 0x20, "MSG_DONTWAIT": 0x40, "MSG_EOR": 0x80,
	"MSG_WAITALL": 0x100, "MSG_ERRQUEUE": 0x2000, "MSG_NOSIGNAL": 0x4000, "MSG_MORE": 0x8000,
	"MSG_ZEROCOPY": 0x4000000, "MSG_FASTOPEN": 0x20000000,
	"POLLIN": 1, "POLLPRI": 2, "POLLOUT": 4, "POLLERR": 8, "POLLHUP": 0x10, "POLLNVAL": 0x20,
	"POLLRDNORM": 0x40, "POLLRDBAND": 0x80, "POLLWRNORM": 0x100, "POLLWRBAND": 0x200, "POLLRDHUP": 0x2000,
	"EPOLLIN": 1, "EPOLLPRI": 2, "EPOLLOUT": 4, "EPOLLERR": 8, "EPOLLHUP": 0x10, "EPOLLRDNORM": 0x40,
	"EPOLLWRNORM": 0x100, "EPOLLRDHUP": 0x2000, "EPOLLEXCLUSIVE": 1 << 28, "EPOLLWAKEUP": 1 << 29,
	"EPOLLONESHOT": 1 << 30, "EPOLLET": 1 << 31, "EPOLL_CTL_ADD": 1, "EPOLL_CTL_DEL": 2, "EPOLL_CTL_MOD": 3,
	"SIOCINQ": 0x541b, "FIONREAD": 0x541b, "SIOCOUTQ": 0x5411, "SIOCOUTQNSD": 0x894b,
	"SO_EE_ORIGIN_NONE": 0, "SO_EE_ORIGIN_LOCAL": 1, "SO_EE_ORIGIN_ICMP": 2, "SO_EE_ORIGIN_ICMP6": 3,
	"SO_EE_ORIGIN_TIMESTAMPING": 4, "SO_EE_ORIGIN_ZEROCOPY": 5, "SO_EE_CODE_ZEROCOPY_COPIED": 1,
	"SOF_TIMESTAMPING_TX_HARDWARE": 1, "SOF_TIMESTAMPING_TX_SOFTWARE": 2, "SOF_TIMESTAMPING_RX_HARDWARE": 4,
	"SOF_TIMESTAMPING_RX_SOFTWARE": 8, "SOF_TIMESTAMPING_SOFTWARE": 0x10, "SOF_TIMESTAMPING_OPT_ID": 0x80,
	"SOF_TIMESTAMPING_TX_SCHED": 0x100, "SOF_TIMESTAMPING_TX_ACK": 0x200, "SOF_TIMESTAMPING_OPT_TSONLY": 0x800,
	"SCM_TSTAMP_SND": 0, "SCM_TSTAMP_SCHED": 1, "SCM_TSTAMP_ACK": 2,
	// tcp_info's values (include/uapi/linux/tcp.h, net/tcp_states.h).
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4, "TCP_FIN_WAIT2": 5,
	"TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
	"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3, "TCP_CA_Loss": 4,
	"TCPI_OPT_TIMESTAMPS": 1, "TCPI_OPT_SACK": 2, "TCPI_OPT_WSCALE": 4, "TCPI_OPT_ECN": 8,
	"TCPI_OPT_ECN_SEEN": 16, "TCPI_OPT_SYN_DATA": 32, "TCP_INFINITE_SSTHRESH": 0x7fffffff,
}

// Option names the backends understand, by (level, name).
const (
	solSocket          = 1
	solTCP             = 6
	soReuseAddr        = 2
	soError            = 4
	soSndBuf           = 7
	soRcvBuf           = 8
	soKeepAlive        = 9
	soLinger           = 13
	soReusePort        = 15
	tcpNoDelay         = 1
	tcpMaxSeg          = 2
	tcpKeepIdle        = 4
	tcpKeepIntvl       = 5
	tcpKeepCnt         = 6
	tcpSynCnt          = 7
	tcpFastOpen        = 23 // TCP_FASTOPEN: a listener's Fast Open queue length
	tcpFastOpenConnect = 30
	oNonblock          = 0x800
)

var errnoNames = map[string]syscall.Errno{
	"EAGAIN": syscall.EAGAIN, "EWOULDBLOCK": syscall.EAGAIN, "EINPROGRESS": syscall.EINPROGRESS,
	"EALREADY": syscall.EALREADY, "EISCONN": syscall.EISCONN, "ENOTCONN": syscall.ENOTCONN,
	"ECONNREFUSED": syscall.ECONNREFUSED, "ECONNRESET": syscall.ECONNRESET, "ECONNABORTED": syscall.ECONNABORTED,
	"ETIMEDOUT": syscall.ETIMEDOUT, "EPIPE": syscall.EPIPE, "EINVAL": syscall.EINVAL, "EBADF": syscall.EBADF,
	"EADDRINUSE": syscall.EADDRINUSE, "EADDRNOTAVAIL": syscall.EADDRNOTAVAIL, "EHOSTUNREACH": syscall.EHOSTUNREACH,
	"ENETUNREACH": syscall.ENETUNREACH, "ENOPROTOOPT": syscall.ENOPROTOOPT, "EOPNOTSUPP": syscall.EOPNOTSUPP,
	"ENOTSOCK": syscall.ENOTSOCK, "EFAULT": syscall.EFAULT, "ENOBUFS": syscall.ENOBUFS, "EMSGSIZE": syscall.EMSGSIZE,
	"ENOMEM": syscall.ENOMEM, "EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "EACCES": syscall.EACCES,
	"EINTR": syscall.EINTR, "EDESTADDRREQ": syscall.EDESTADDRREQ, "EAFNOSUPPORT": syscall.EAFNOSUPPORT,
	"EPROTONOSUPPORT": syscall.EPROTONOSUPPORT, "ESOCKTNOSUPPORT": syscall.ESOCKTNOSUPPORT,
	"ENETDOWN": syscall.ENETDOWN, "EHOSTDOWN": syscall.EHOSTDOWN, "ENOTTY": syscall.ENOTTY, "EEXIST": syscall.EEXIST,
}

// errnoName names an errno as a script writes it.
func errnoName(e syscall.Errno) string {
	best := ""
	for n, v := range errnoNames {
		if v == e && (best == "" || n < best) && n != "EWOULDBLOCK" {
			best = n
		}
	}
	if best == "" {
		return fmt.Sprintf("errno %d", int(e))
	}
	return best
}

// asErrno turns a backend error into an errno.
func asErrno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// evalInt evaluates an integer expression: numbers, symbols, a|b, [n].
func evalInt(e Expr) (int64, error) {
	switch e.Kind {
	case ExprInt:
		return e.Int, nil
	case ExprWord:
		if v, ok := symbols[e.Word]; ok {
			return v, nil
		}
		if v, ok := errnoNames[e.Word]; ok {
			return int64(v), nil
		}
		return 0, fmt.Errorf("unknown symbol %s", e.Word)
	case ExprOr:
		var v int64
		for _, x := range e.Elems {
			n, err := evalInt(x)
			if err != nil {
				return 0, err
			}
			v |= n
		}
		return v, nil
	case ExprArray:
		if len(e.Elems) == 1 {
			return evalInt(e.Elems[0])
		}
	case ExprCall:
		if e.Word == "htons" && len(e.Elems) == 1 {
			return evalInt(e.Elems[0])
		}
	}
	return 0, fmt.Errorf("expected an integer expression")
}

func (e Expr) String() string {
	switch e.Kind {
	case ExprEllipsis:
		return "..."
	case ExprInt:
		return fmt.Sprint(e.Int)
	case ExprWord:
		return e.Word
	case ExprString:
		return fmt.Sprintf("%q", e.Word)
	case ExprOr:
		parts := make([]string, len(e.Elems))
		for i, x := range e.Elems {
			parts[i] = x.String()
		}
		return strings.Join(parts, "|")
	case ExprArray:
		parts := make([]string, len(e.Elems))
		for i, x := range e.Elems {
			parts[i] = x.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ExprCall:
		parts := make([]string, len(e.Elems))
		for i, x := range e.Elems {
			parts[i] = x.String()
		}
		return e.Word + "(" + strings.Join(parts, ", ") + ")"
	case ExprStruct:
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			if f.Name != "" {
				parts[i] = f.Name + "=" + f.Value.String()
			} else {
				parts[i] = f.Value.String()
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "?"
}

func (sc *SyscallSpec) String() string {
	args := make([]string, len(sc.Args))
	for i, a := range sc.Args {
		args[i] = a.String()
	}
	s := fmt.Sprintf("%s(%s) = %s", sc.Name, strings.Join(args, ", "), sc.Result)
	if sc.Errno != "" {
		s += " " + sc.Errno
	}
	return s
}

// resultString renders a call's outcome as strace does.
func resultString(res int64, err error) string {
	if err != nil {
		return fmt.Sprintf("-1 %s", errnoName(asErrno(err)))
	}
	return fmt.Sprint(res)
}

// callFunc is one attempt at a system call: done is false when a
// blocking socket would block.
type callFunc func() (done bool, res int64, err error)

func (r *runner) syscall(ev *Event, at time.Duration) error {
	sc := ev.Syscall
	r.advanceTo(at)
	if r.err != nil {
		return r.err
	}
	if p := r.pending; p != nil {
		// Calls run one at a time: wait for the blocked one first.
		deadline := p.end + r.tolerance(p.end)
		for r.err == nil && r.pending != nil && r.b.now() < deadline {
			r.b.step(deadline)
			r.collect()
			r.retryPending()
		}
		if r.err != nil {
			return r.err
		}
		if r.pending != nil {
			return failf(p.ev.Line, "`%s` still blocked at %s (line %d needs the next call)", p.ev.Text, secs(r.b.now()), ev.Line)
		}
	}
	if err := r.checkLate(ev, at, "system call"); err != nil {
		return err
	}
	r.socketUsed = true
	try, check, err := r.prepare(ev)
	if err != nil {
		return err
	}
	done, res, cerr := try()
	r.collect()
	if !done && !sc.Blocking {
		// The kernel may need a moment for a packet just injected.
		deadline := r.b.now() + r.b.grace()
		for !done && r.b.now() < deadline {
			r.b.step(deadline)
			r.collect()
			done, res, cerr = try()
		}
	}
	if !done {
		if !sc.Blocking {
			return failf(ev.Line, "`%s` would block; a call that blocks is written `+T...END %s(...)`", ev.Text, sc.Name)
		}
		end := sc.End
		if ev.Kind == TimeRelative {
			end += at - ev.Time
		}
		r.pending = &pendingCall{ev: ev, start: at, end: end, try: try, check: check}
		return nil
	}
	if err := check(res, cerr, r.b.now()); err != nil {
		return err
	}
	if sc.Blocking {
		end := sc.End
		if ev.Kind == TimeRelative {
			end += at - ev.Time
		}
		return r.checkReturnTime(ev, end, r.b.now())
	}
	return nil
}

func (r *runner) checkReturnTime(ev *Event, end, at time.Duration) error {
	tol := r.tolerance(end)
	if at < end-tol || at > end+tol {
		return failf(ev.Line, "timing: `%s` returned at %s, expected at %s (tolerance %s)", ev.Text, secs(at), secs(end), tol)
	}
	return nil
}

// retryPending retries a blocked call and checks it once it returns.
func (r *runner) retryPending() {
	p := r.pending
	if p == nil || r.err != nil {
		return
	}
	done, res, err := p.try()
	if !done {
		return
	}
	r.pending = nil
	now := r.b.now()
	if e := p.check(res, err, now); e != nil {
		r.fail(e)
		return
	}
	if e := r.checkReturnTime(p.ev, p.end, now); e != nil {
		r.fail(e)
	}
}

func (r *runner) fd(ev *Event, e Expr) (int, *fdState, error) {
	n, err := evalInt(e)
	if err != nil {
		return 0, nil, failf(ev.Line, "file descriptor: %v", err)
	}
	f := r.fds[int(n)]
	if f == nil {
		return int(n), nil, failf(ev.Line, "fd %d is not open in the script", n)
	}
	return int(n), f, nil
}

// sockCall is fdCall for a call that needs a socket.
func (r *runner) sockCall(ev *Event, n int) (int, *fdState, error) {
	fd, f, err := r.fdCall(ev, n)
	if err == nil && f.s == nil && ev.Syscall.Name != "close" {
		return fd, nil, failf(ev.Line, "fd %d is not a socket", fd)
	}
	return fd, f, err
}

// fdCall checks that a call has n arguments and that the first names an
// open descriptor, and returns it.
func (r *runner) fdCall(ev *Event, n int) (int, *fdState, error) {
	if err := r.needArgs(ev, n); err != nil {
		return 0, nil, err
	}
	return r.fd(ev, ev.Syscall.Args[0])
}

func (r *runner) needArgs(ev *Event, n int) error {
	if len(ev.Syscall.Args) < n {
		return failf(ev.Line, "%s needs %d arguments", ev.Syscall.Name, n)
	}
	return nil
}

// expectResult returns the check for a call whose result is compared
// with the script's (and whose errno, if written, must match).
func (r *runner) expectResult(ev *Event) func(res int64, err error, at time.Duration) error {
	sc := ev.Syscall
	return func(res int64, err error, at time.Duration) error {
		if err != nil {
			res = -1
		}
		wantErr := sc.Errno != ""
		var want int64
		if sc.Result.Kind != ExprEllipsis {
			w, e := evalInt(sc.Result)
			if e != nil {
				return failf(ev.Line, "result: %v", e)
			}
			want = w
		} else {
			want = res
		}
		ok := res == want
		if wantErr {
			e, known := errnoNames[sc.Errno]
			if !known {
				return failf(ev.Line, "unknown errno %s", sc.Errno)
			}
			ok = ok && err != nil && asErrno(err) == e
		} else if err != nil && want != -1 {
			// packetdrill checks errno only where the script names one.
			ok = false
		}
		if !ok {
			return failf(ev.Line, "expected `%s`, got = %s", sc, resultString(res, err))
		}
		return nil
	}
}

// addr evaluates a sockaddr argument: ... means def; a struct gives
// sin_port/sin6_port and sin_addr/sin6_addr.
func (r *runner) addr(ev *Event, e Expr, def netip.AddrPort) (netip.AddrPort, error) {
	if e.Kind == ExprEllipsis {
		return def, nil
	}
	if e.Kind != ExprStruct {
		return def, failf(ev.Line, "expected ... or a sockaddr, found %s", e)
	}
	ip, port := def.Addr(), def.Port()
	for _, f := range e.Fields {
		switch f.Name {
		case "sin_port", "sin6_port":
			v, err := evalInt(f.Value)
			if err != nil || v < 0 || v > 65535 {
				return def, failf(ev.Line, "bad port %s", f.Value)
			}
			port = uint16(v)
		case "sin_addr", "sin6_addr":
			v := f.Value
			if v.Kind == ExprCall && len(v.Elems) == 1 {
				v = v.Elems[0]
			}
			a, err := netip.ParseAddr(v.Word)
			if err != nil {
				return def, failf(ev.Line, "bad address %s", f.Value)
			}
			ip = a
		}
	}
	return netip.AddrPortFrom(ip, port), nil
}

// sockValue evaluates a setsockopt value: [n], n, or {onoff=, linger=}.
func sockValue(e Expr) (sockVal, error) {
	if e.Kind == ExprStruct {
		v := sockVal{IsLinger: true}
		for _, f := range e.Fields {
			n, err := evalInt(f.Value)
			if err != nil {
				return v, err
			}
			switch f.Name {
			case "onoff", "l_onoff":
				v.OnOff = int(n)
			case "linger", "l_linger":
				v.Seconds = int(n)
			}
		}
		return v, nil
	}
	if e.Kind == ExprString {
		return sockVal{Str: e.Word, IsStr: true}, nil
	}
	n, err := evalInt(e)
	return sockVal{Int: int(n)}, err
}

// nonblockSetter is a socket that must know whether it is blocking, as
// the threeway backend's Fast Open client calls return different things
// on a blocking socket.
type nonblockSetter interface{ setNonblock(on bool) }

// blockingOrAgain wraps an attempt: EAGAIN on a blocking socket is "not
// done yet".
func blockingOrAgain(f *fdState, res int64, err error) (bool, int64, error) {
	if err != nil && asErrno(err) == syscall.EAGAIN && !f.nonblock {
		return false, 0, nil
	}
	return true, res, err
}

// prepare builds the attempt and the result check for a system call.
func (r *runner) prepare(ev *Event) (callFunc, func(int64, error, time.Duration) error, error) {
	sc := ev.Syscall
	args := sc.Args
	check := r.expectResult(ev)
	var err error
	if len(args) > 2 && args[1].Kind == ExprWord && args[1].Word == "NULL" {
		switch sc.Name {
		case "write", "send", "sendto", "read", "recv", "recvfrom":
			return r.nullBufferCall(ev, check)
		}
	}
	switch sc.Name {
	case "socket":
		v6 := r.cfg.IPv6
		if len(args) > 0 && args[0].Kind == ExprWord {
			v6 = args[0].Word == "AF_INET6" || args[0].Word == "PF_INET6"
		}
		typ, proto := int64(1), int64(0)
		if len(args) > 1 && args[1].Kind != ExprEllipsis {
			if typ, err = evalInt(args[1]); err != nil {
				return nil, nil, failf(ev.Line, "socket type: %v", err)
			}
		}
		if len(args) > 2 && args[2].Kind != ExprEllipsis {
			if proto, err = evalInt(args[2]); err != nil {
				return nil, nil, failf(ev.Line, "socket protocol: %v", err)
			}
		}
		fdn := r.nextFD(sc.Result)
		return func() (bool, int64, error) {
			s, err := r.b.socket(v6, int(typ), int(proto))
			if err != nil {
				return true, -1, err
			}
			r.fds[fdn] = &fdState{s: s, v6: v6}
			r.testSock = s
			r.sockGen++
			return true, int64(fdn), nil
		}, check, nil

	case "bind":
		_, f, err := r.sockCall(ev, 2)
		if err != nil {
			return nil, nil, err
		}
		ap, err := r.addr(ev, args[1], netip.AddrPortFrom(r.localFor(f), r.cfg.BindPort))
		if err != nil {
			return nil, nil, err
		}
		return func() (bool, int64, error) {
			if err := f.s.bind(ap); err != nil {
				return true, -1, err
			}
			r.listenPort = ap.Port()
			return true, 0, nil
		}, check, nil

	case "listen":
		_, f, err := r.sockCall(ev, 2)
		if err != nil {
			return nil, nil, err
		}
		backlog, err := evalInt(args[1])
		if err != nil {
			return nil, nil, failf(ev.Line, "backlog: %v", err)
		}
		return func() (bool, int64, error) {
			if err := f.s.listen(int(backlog)); err != nil {
				return true, -1, err
			}
			r.newListener = r.current != nil
			return true, 0, nil
		}, check, nil

	case "accept", "accept4":
		_, f, err := r.sockCall(ev, 1)
		if err != nil {
			return nil, nil, err
		}
		fdn := r.nextFD(sc.Result)
		return func() (bool, int64, error) {
			s, err := f.s.accept()
			if err != nil {
				return blockingOrAgain(f, -1, err)
			}
			r.fds[fdn] = &fdState{s: s, v6: f.v6}
			r.testSock = s
			return true, int64(fdn), nil
		}, check, nil

	case "connect":
		_, f, err := r.sockCall(ev, 2)
		if err != nil {
			return nil, nil, err
		}
		ap, err := r.addr(ev, args[1], netip.AddrPortFrom(r.remoteFor(f), r.cfg.ConnectPort))
		if err != nil {
			return nil, nil, err
		}
		started := false
		return func() (bool, int64, error) {
			if !started {
				started = true
				err := f.s.connect(ap)
				if err == nil {
					return true, 0, nil
				}
				if asErrno(err) != syscall.EINPROGRESS || f.nonblock {
					return true, -1, err
				}
			}
			done, err := f.s.connectDone()
			if !done {
				return false, 0, nil
			}
			if err != nil {
				return true, -1, err
			}
			return true, 0, nil
		}, check, nil

	case "write", "send":
		_, f, err := r.sockCall(ev, 3)
		if err != nil {
			return nil, nil, err
		}
		n, err := evalInt(args[2])
		if err != nil || n < 0 {
			return nil, nil, failf(ev.Line, "length: %s", args[2])
		}
		flags := int64(0)
		if sc.Name == "send" && len(args) > 3 {
			if flags, err = evalInt(args[3]); err != nil {
				return nil, nil, failf(ev.Line, "send flags: %v", err)
			}
		}
		if flags != 0 {
			return r.sendCall(ev, f, int(n), int(flags), netip.AddrPort{}), check, nil
		}
		written := 0
		return func() (bool, int64, error) {
			for {
				k, err := f.s.write(int(n) - written)
				written += max(k, 0)
				if err != nil {
					if written > 0 && asErrno(err) == syscall.EAGAIN && f.nonblock {
						return true, int64(written), nil
					}
					if written > 0 && asErrno(err) != syscall.EAGAIN {
						return true, int64(written), nil
					}
					return blockingOrAgain(f, -1, err)
				}
				if written >= int(n) || f.nonblock || k == 0 {
					return true, int64(written), nil
				}
			}
		}, check, nil

	case "read", "recv", "recvfrom":
		if sc.Name != "read" && len(args) > 3 {
			if flags, err := evalInt(args[3]); err != nil {
				return nil, nil, failf(ev.Line, "recv flags: %v", err)
			} else if flags != 0 {
				return r.prepareIO(ev, check)
			}
		}
		_, f, err := r.sockCall(ev, 3)
		if err != nil {
			return nil, nil, err
		}
		n, err := evalInt(args[2])
		if err != nil || n < 0 {
			return nil, nil, failf(ev.Line, "length: %s", args[2])
		}
		return func() (bool, int64, error) {
			k, err := f.s.read(int(n))
			if err != nil {
				return blockingOrAgain(f, -1, err)
			}
			return true, int64(k), nil
		}, check, nil

	case "shutdown":
		_, f, err := r.sockCall(ev, 2)
		if err != nil {
			return nil, nil, err
		}
		how, err := evalInt(args[1])
		if err != nil {
			return nil, nil, failf(ev.Line, "how: %v", err)
		}
		return func() (bool, int64, error) { return true, 0, f.s.shutdown(int(how)) }, check, nil

	case "close":
		n, f, err := r.sockCall(ev, 1)
		if err != nil {
			return nil, nil, err
		}
		return func() (bool, int64, error) {
			delete(r.fds, n)
			if f.s == nil {
				if f.ep != nil && f.ep.kernel != nil {
					return true, 0, f.ep.kernel.close()
				}
				return true, 0, nil
			}
			return true, 0, f.s.close()
		}, check, nil

	case "setsockopt":
		_, f, err := r.sockCall(ev, 4)
		if err != nil {
			return nil, nil, err
		}
		level, err1 := evalInt(args[1])
		name, err2 := evalInt(args[2])
		v, err3 := sockValue(args[3])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, nil, failf(ev.Line, "setsockopt: %v", err)
		}
		return func() (bool, int64, error) {
			return true, 0, f.s.setsockopt(int(level), int(name), v)
		}, check, nil

	case "getsockopt":
		_, f, err := r.sockCall(ev, 4)
		if err != nil {
			return nil, nil, err
		}
		level, err1 := evalInt(args[1])
		name, err2 := evalInt(args[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, failf(ev.Line, "getsockopt: %v", err)
		}
		wantExpr := args[3]
		return func() (bool, int64, error) {
				v, err := f.s.getsockopt(int(level), int(name))
				if err != nil {
					return true, -1, err
				}
				return true, 0, r.compareSockVal(ev, wantExpr, v)
			}, func(res int64, err error, at time.Duration) error {
				var f *failure
				if errors.As(err, &f) {
					return f
				}
				return check(res, err, at)
			}, nil

	case "fcntl":
		_, f, err := r.sockCall(ev, 2)
		if err != nil {
			return nil, nil, err
		}
		cmd, err := evalInt(args[1])
		if err != nil {
			return nil, nil, failf(ev.Line, "fcntl: %v", err)
		}
		switch cmd {
		case symbols["F_SETFL"]:
			if err := r.needArgs(ev, 3); err != nil {
				return nil, nil, err
			}
			flags, err := evalInt(args[2])
			if err != nil {
				return nil, nil, failf(ev.Line, "fcntl flags: %v", err)
			}
			return func() (bool, int64, error) {
				f.nonblock = flags&oNonblock != 0
				if ns, ok := f.s.(nonblockSetter); ok {
					ns.setNonblock(f.nonblock)
				}
				return true, 0, nil
			}, check, nil
		case symbols["F_GETFL"]:
			return func() (bool, int64, error) {
				v := int64(symbols["O_RDWR"])
				if f.nonblock {
					v |= oNonblock
				}
				return true, v, nil
			}, check, nil
		}
		return nil, nil, failf(ev.Line, "unsupported fcntl command %s", args[1])
	}
	_ = err
	return r.prepareIO(ev, check)
}

// compareSockVal checks a getsockopt value against the script's [n] or
// {onoff=, linger=}; ... accepts anything.
func (r *runner) compareSockVal(ev *Event, want Expr, got sockVal) error {
	if want.Kind == ExprEllipsis || want.Kind == ExprArray && len(want.Elems) == 1 && want.Elems[0].Kind == ExprEllipsis {
		return nil
	}
	w, err := sockValue(want)
	if err != nil {
		return failf(ev.Line, "getsockopt value: %v", err)
	}
	if w.IsLinger {
		if got.OnOff != w.OnOff || got.Seconds != w.Seconds {
			return failf(ev.Line, "expected `%s`, got value {onoff=%d, linger=%d}", ev.Syscall, got.OnOff, got.Seconds)
		}
		return nil
	}
	if got.Int != w.Int && int64(uint32(got.Int)) != int64(w.Int) {
		// (An unsigned option such as TCP_NOTSENT_LOWAT reads back as
		// an int.)
		if name, ok := errnoOf(want); ok {
			return failf(ev.Line, "expected `%s` (%s), got value %d (%s)", ev.Syscall, name, got.Int, errnoName(syscall.Errno(got.Int)))
		}
		return failf(ev.Line, "expected `%s`, got value %d", ev.Syscall, got.Int)
	}
	return nil
}

// errnoOf reads an SO_ERROR expectation written as an errno name.
func errnoOf(e Expr) (string, bool) {
	if e.Kind == ExprArray && len(e.Elems) == 1 && e.Elems[0].Kind == ExprWord {
		_, ok := errnoNames[e.Elems[0].Word]
		return e.Elems[0].Word, ok
	}
	return "", false
}

// nextFD is the fd number a new socket gets: the script's expected
// result, or the lowest free number from 3.
func (r *runner) nextFD(res Expr) int {
	if res.Kind == ExprInt && res.Int >= 0 {
		return int(res.Int)
	}
	n := 3
	for r.fds[n] != nil {
		n++
	}
	return n
}

func (r *runner) localFor(f *fdState) netip.Addr {
	if f.v6 != r.cfg.IPv6 {
		if f.v6 {
			return DefaultLocal6
		}
		return DefaultLocal4
	}
	return r.cfg.LocalIP
}

func (r *runner) remoteFor(f *fdState) netip.Addr {
	if f.v6 != r.cfg.IPv6 {
		if f.v6 {
			return DefaultRemote6
		}
		return DefaultRemote4
	}
	return r.cfg.RemoteIP
}
