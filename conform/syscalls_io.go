package conform

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// The system calls beyond the basic socket ones: send and recv with
// flags, sendto, sendmsg and recvmsg with packetdrill's msghdr syntax,
// poll, epoll, and the ioctls. Both backends run them through sock; epoll
// is the runner's own, over sock.poll, on either backend.

const (
	msgDontwait  = 0x40
	msgErrqueue  = 0x2000
	msgFastopen  = 0x20000000
	epollET      = 1 << 31
	epollOneshot = 1 << 30
	pollErr      = 0x8
	pollHup      = 0x10
	pollNval     = 0x20
)

// epollSet is an epoll instance: the descriptors registered on it. With
// a kernel epoll (the Linux backend's), the kernel decides readiness and
// edges; otherwise the runner does, over sock.poll.
type epollSet struct {
	entries []*epollEntry
	kernel  kernelEpoll
}

// kernelEpoll is an epoll instance a backend's kernel keeps.
type kernelEpoll interface {
	ctl(op int, s sock, events int) error
	// wait returns the ready sockets and their events, without waiting.
	wait(max int) ([]sock, []int, error)
	close() error
}

// wakeups is a socket that says when it would wake a waiter: a value that
// changes with each such event.
type wakeups interface {
	wakeups() any
}

// epollMaker is a backend with kernel epoll instances.
type epollMaker interface {
	newEpoll() (kernelEpoll, error)
}

type epollEntry struct {
	fd       int
	events   int
	data     Expr // the event's fd=/ptr=/u32=/u64= field, given back as is
	last     int  // readiness last reported, for EPOLLET
	lastGen  any  // the socket's wakeup generation when last reported
	disabled bool // EPOLLONESHOT after its event
}

// prepareIO builds the attempt and check of the calls prepare leaves.
func (r *runner) prepareIO(ev *Event, check func(int64, error, time.Duration) error) (callFunc, func(int64, error, time.Duration) error, error) {
	sc := ev.Syscall
	args := sc.Args
	switch sc.Name {
	case "sendto":
		_, f, err := r.sockCall(ev, 4)
		if err != nil {
			return nil, nil, err
		}
		n, err1 := evalInt(args[2])
		flags, err2 := evalInt(args[3])
		if err1 != nil || err2 != nil || n < 0 {
			return nil, nil, failf(ev.Line, "sendto: bad length or flags")
		}
		if len(args) > 4 && args[4].Kind == ExprWord && args[4].Word == "AF_UNSPEC" {
			us, ok := f.s.(unspecSender)
			if !ok {
				return nil, nil, failf(ev.Line, "sendto with AF_UNSPEC: not on this backend")
			}
			// Sent without waiting: Linux refuses it at once with
			// MSG_FASTOPEN, the one use the corpus makes of it.
			return func() (bool, int64, error) {
				k, err := us.sendUnspec(int(n), int(flags))
				if err != nil {
					return true, -1, err
				}
				return true, int64(k), nil
			}, check, nil
		}
		to := netip.AddrPortFrom(r.remoteFor(f), r.cfg.ConnectPort)
		if len(args) > 4 {
			if to, err = r.addr(ev, args[4], to); err != nil {
				return nil, nil, err
			}
		}
		if flags&msgFastopen == 0 {
			to = netip.AddrPort{}
		}
		return r.sendCall(ev, f, int(n), int(flags), to), check, nil

	case "sendmsg":
		_, f, err := r.sockCall(ev, 3)
		if err != nil {
			return nil, nil, err
		}
		n, _, _, err := msghdr(args[1])
		if err != nil {
			return nil, nil, failf(ev.Line, "sendmsg: %v", err)
		}
		flags, err := evalInt(args[2])
		if err != nil {
			return nil, nil, failf(ev.Line, "sendmsg flags: %v", err)
		}
		var to netip.AddrPort
		if flags&msgFastopen != 0 {
			// msg_name(...)=...: the script's side, as sendto's ... is.
			to = netip.AddrPortFrom(r.remoteFor(f), r.cfg.ConnectPort)
		}
		return r.sendCall(ev, f, n, int(flags), to), check, nil

	case "recvmsg", "recv", "recvfrom":
		_, f, err := r.sockCall(ev, 3)
		if err != nil {
			return nil, nil, err
		}
		var n int
		var wantFlags *Expr
		var wantCtl *Expr
		var flagArg Expr
		if sc.Name == "recvmsg" {
			if n, wantFlags, wantCtl, err = msghdr(args[1]); err != nil {
				return nil, nil, failf(ev.Line, "recvmsg: %v", err)
			}
			flagArg = args[2]
		} else {
			v, err := evalInt(args[2])
			if err != nil || v < 0 {
				return nil, nil, failf(ev.Line, "length: %s", args[2])
			}
			n = int(v)
			if len(args) > 3 {
				flagArg = args[3]
			} else {
				flagArg = Expr{Kind: ExprInt}
			}
		}
		flags, err := evalInt(flagArg)
		if err != nil {
			return nil, nil, failf(ev.Line, "recv flags: %v", err)
		}
		var gotFlags int
		var gotCtl []cmsg
		try := func() (bool, int64, error) {
			k, mf, cm, err := f.s.recv(n, int(flags))
			if err != nil {
				if flags&(msgDontwait|msgErrqueue) != 0 {
					return true, -1, err
				}
				return blockingOrAgain(f, -1, err)
			}
			gotFlags, gotCtl = mf, cm
			return true, int64(k), nil
		}
		return try, func(res int64, err error, at time.Duration) error {
			if e := check(res, err, at); e != nil {
				return e
			}
			if err != nil {
				return nil
			}
			if wantFlags != nil && wantFlags.Kind != ExprEllipsis {
				w, e := evalInt(*wantFlags)
				if e != nil {
					return failf(ev.Line, "msg_flags: %v", e)
				}
				if int64(gotFlags) != w {
					return failf(ev.Line, "expected msg_flags=%s, got 0x%x", wantFlags, gotFlags)
				}
			}
			if wantCtl != nil {
				return compareCmsgs(ev, *wantCtl, gotCtl)
			}
			return nil
		}, nil

	case "ioctl":
		_, f, err := r.sockCall(ev, 3)
		if err != nil {
			return nil, nil, err
		}
		req, err := evalInt(args[1])
		if err != nil {
			return nil, nil, failf(ev.Line, "ioctl request: %v", err)
		}
		want := args[2]
		var got int
		return func() (bool, int64, error) {
				v, err := f.s.ioctl(int(req))
				if err != nil {
					return true, -1, err
				}
				got = v
				return true, 0, nil
			}, func(res int64, err error, at time.Duration) error {
				if e := check(res, err, at); e != nil || err != nil {
					return e
				}
				return r.compareSockVal(ev, want, sockVal{Int: got})
			}, nil

	case "poll":
		return r.pollCall(ev, check)

	case "epoll_create", "epoll_create1":
		fdn := r.nextFD(sc.Result)
		return func() (bool, int64, error) {
			set := &epollSet{}
			if m, ok := r.b.(epollMaker); ok {
				k, err := m.newEpoll()
				if err != nil {
					return true, -1, err
				}
				set.kernel = k
			}
			r.fds[fdn] = &fdState{ep: set}
			return true, int64(fdn), nil
		}, check, nil

	case "epoll_ctl":
		if err := r.needArgs(ev, 3); err != nil {
			return nil, nil, err
		}
		_, ep, err := r.fd(ev, args[0])
		if err != nil {
			return nil, nil, err
		}
		if ep.ep == nil {
			return nil, nil, failf(ev.Line, "fd %s is not an epoll instance", args[0])
		}
		op, err1 := evalInt(args[1])
		fd, err2 := evalInt(args[2])
		if err1 != nil || err2 != nil {
			return nil, nil, failf(ev.Line, "epoll_ctl: bad op or fd")
		}
		var events int64
		var data Expr
		if len(args) > 3 && args[3].Kind == ExprStruct {
			for _, fl := range args[3].Fields {
				if fl.Name == "events" {
					if events, err = evalInt(fl.Value); err != nil {
						return nil, nil, failf(ev.Line, "epoll events: %v", err)
					}
				} else {
					data = fl.Value
				}
			}
		}
		return func() (bool, int64, error) {
			return true, 0, ep.ep.ctl(r, int(op), int(fd), int(events), data)
		}, check, nil

	case "epoll_wait", "epoll_pwait":
		return r.epollWait(ev, check)

	case "sendfile", "splice", "pipe", "open", "openat", "tee", "vmsplice":
		return nil, nil, failf(ev.Line, "unsupported system call %s: the runner has no files or pipes", sc.Name)
	}
	return nil, nil, failf(ev.Line, "unsupported system call %s", sc.Name)
}

// sendCall sends n bytes with flags: on a blocking socket it waits, as
// send(2) does, until all are queued; MSG_FASTOPEN (with to) connects
// first, and a blocking socket waits for the handshake.
func (r *runner) sendCall(ev *Event, f *fdState, n, flags int, to netip.AddrPort) callFunc {
	if bs, ok := f.s.(blockingSender); ok && !f.nonblock && flags&msgDontwait == 0 {
		// The kernel's own blocking send: a writer that waits changes
		// what the kernel does meanwhile (it holds the ACK of a SYN-ACK
		// for the data, say), so it is not emulated with retries.
		var done <-chan sendResult
		return func() (bool, int64, error) {
			if done == nil {
				done = bs.sendBlocking(n, flags, to)
			}
			select {
			case res := <-done:
				if res.err != nil {
					return true, -1, res.err
				}
				return true, int64(res.n), nil
			default:
				return false, 0, nil
			}
		}
	}
	sent := 0
	connecting := false
	return func() (bool, int64, error) {
		for {
			if connecting {
				done, err := f.s.connectDone()
				if !done {
					return false, 0, nil
				}
				connecting = false
				if err != nil {
					return true, -1, err
				}
				if sent >= n {
					return true, int64(sent), nil
				}
			}
			dest := to
			if sent > 0 || !to.IsValid() {
				dest = netip.AddrPort{}
			}
			fl := flags
			if !dest.IsValid() {
				fl &^= msgFastopen
			}
			k, err := f.s.send(n-sent, fl, dest)
			if dest.IsValid() {
				to = netip.AddrPort{}
				blocking := !f.nonblock && flags&msgDontwait == 0
				if err != nil && asErrno(err) == syscall.EINPROGRESS && blocking {
					connecting = true
					continue
				}
				if err == nil && blocking {
					sent += k
					connecting = true
					continue
				}
			}
			sent += max(k, 0)
			if err != nil {
				if sent > 0 && asErrno(err) == syscall.EAGAIN && (f.nonblock || flags&msgDontwait != 0) {
					return true, int64(sent), nil
				}
				if sent > 0 && asErrno(err) != syscall.EAGAIN {
					return true, int64(sent), nil
				}
				if flags&msgDontwait != 0 {
					return true, -1, err
				}
				return blockingOrAgain(f, -1, err)
			}
			if sent >= n || f.nonblock || flags&msgDontwait != 0 || k == 0 {
				return true, int64(sent), nil
			}
		}
	}
}

// unspecSender is a socket that can sendto an AF_UNSPEC address.
type unspecSender interface {
	sendUnspec(n, flags int) (int, error)
}

// sendResult is what a blocking send returned.
type sendResult struct {
	n   int
	err error
}

// blockingSender is a socket that can make a truly blocking send (the
// Linux backend's): the result comes on the channel when the call
// returns.
type blockingSender interface {
	sendBlocking(n, flags int, to netip.AddrPort) <-chan sendResult
}

// msghdr reads packetdrill's {msg_name(...)=..., msg_iov(N)=[{..., LEN},
// ...], msg_flags=F[, msg_control=[...]]}: the iovecs' total length, and
// the expected flags and control messages.
func msghdr(e Expr) (n int, flags, control *Expr, err error) {
	if e.Kind != ExprStruct {
		return 0, nil, nil, fmt.Errorf("expected a msghdr, found %s", e)
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		switch f.Name {
		case "msg_name":
		case "msg_iov":
			if f.Value.Kind != ExprArray {
				return 0, nil, nil, fmt.Errorf("msg_iov: expected an array of iovecs")
			}
			for _, iov := range f.Value.Elems {
				if iov.Kind != ExprStruct || len(iov.Fields) != 2 {
					return 0, nil, nil, fmt.Errorf("msg_iov: expected {..., LEN}, found %s", iov)
				}
				l, err := evalInt(iov.Fields[1].Value)
				if err != nil || l < 0 {
					return 0, nil, nil, fmt.Errorf("iovec length %s", iov.Fields[1].Value)
				}
				n += int(l)
			}
		case "msg_flags":
			flags = &f.Value
		case "msg_control":
			control = &f.Value
		default:
			return 0, nil, nil, fmt.Errorf("unknown msghdr field %s", f.Name)
		}
	}
	return n, flags, control, nil
}

// compareCmsgs checks recvmsg's control messages against the script's
// [{cmsg_level=, cmsg_type=, cmsg_data={ee_errno=, ...}}, ...].
func compareCmsgs(ev *Event, want Expr, got []cmsg) error {
	if want.Kind == ExprEllipsis {
		return nil
	}
	if want.Kind != ExprArray {
		return failf(ev.Line, "msg_control: expected an array")
	}
	if len(want.Elems) != len(got) {
		return failf(ev.Line, "expected %d control messages, got %d", len(want.Elems), len(got))
	}
	for i, w := range want.Elems {
		g := got[i]
		for _, f := range w.Fields {
			switch f.Name {
			case "cmsg_level", "cmsg_type":
				v, err := evalInt(f.Value)
				if err != nil {
					return failf(ev.Line, "%s: %v", f.Name, err)
				}
				have := g.level
				if f.Name == "cmsg_type" {
					have = g.typ
				}
				if int64(have) != v {
					return failf(ev.Line, "control message %d: %s %d, not %s", i+1, f.Name, have, f.Value)
				}
			case "cmsg_data":
				if f.Value.Kind != ExprStruct {
					continue
				}
				if g.fields == nil {
					return failf(ev.Line, "control message %d: cannot compare its data %s", i+1, f.Value)
				}
				for _, d := range f.Value.Fields {
					v, err := evalInt(d.Value)
					if err != nil {
						return failf(ev.Line, "%s: %v", d.Name, err)
					}
					have, ok := g.fields[d.Name]
					if !ok {
						return failf(ev.Line, "control message %d has no %s", i+1, d.Name)
					}
					if have != v {
						return failf(ev.Line, "control message %d: %s=%d, not %s", i+1, d.Name, have, d.Value)
					}
				}
			}
		}
	}
	return nil
}

// waitUntil turns a readiness check into a call that returns when it is
// ready or the timeout (ms; negative: none) has passed.
func (r *runner) waitUntil(timeout int64, ready func() int64) callFunc {
	var start time.Duration
	started := false
	return func() (bool, int64, error) {
		now := r.b.now()
		if !started {
			start, started = now, true
		}
		if n := ready(); n > 0 {
			return true, n, nil
		}
		if timeout >= 0 && now-start >= time.Duration(timeout)*time.Millisecond {
			return true, 0, nil
		}
		return false, 0, nil
	}
}

// pollCall is poll([{fd=, events=, revents=}, ...], nfds, timeout).
func (r *runner) pollCall(ev *Event, check func(int64, error, time.Duration) error) (callFunc, func(int64, error, time.Duration) error, error) {
	args := ev.Syscall.Args
	if err := r.needArgs(ev, 3); err != nil {
		return nil, nil, err
	}
	if args[0].Kind != ExprArray {
		return nil, nil, failf(ev.Line, "poll: expected an array of pollfds")
	}
	type pfd struct {
		f       *fdState
		fd      int
		events  int
		revents *Expr
		got     int
	}
	var pfds []*pfd
	for _, e := range args[0].Elems {
		p := &pfd{}
		for _, fl := range e.Fields {
			switch fl.Name {
			case "fd":
				n, f, err := r.fd(ev, fl.Value)
				if err != nil {
					return nil, nil, err
				}
				p.fd, p.f = n, f
			case "events":
				v, err := evalInt(fl.Value)
				if err != nil {
					return nil, nil, failf(ev.Line, "poll events: %v", err)
				}
				p.events = int(v)
			case "revents":
				v := fl.Value
				p.revents = &v
			}
		}
		if p.f == nil || p.f.s == nil {
			return nil, nil, failf(ev.Line, "poll: each pollfd needs the fd of a socket")
		}
		pfds = append(pfds, p)
	}
	timeout, err := evalInt(args[2])
	if err != nil {
		return nil, nil, failf(ev.Line, "poll timeout: %v", err)
	}
	try := r.waitUntil(timeout, func() int64 {
		var n int64
		for _, p := range pfds {
			p.got = p.f.s.poll(p.events) & (p.events | pollErr | pollHup | pollNval)
			if p.got != 0 {
				n++
			}
		}
		return n
	})
	return try, func(res int64, err error, at time.Duration) error {
		if e := check(res, err, at); e != nil {
			return e
		}
		for _, p := range pfds {
			if p.revents == nil {
				continue
			}
			w, err := evalInt(*p.revents)
			if err != nil {
				return failf(ev.Line, "revents: %v", err)
			}
			if int64(p.got) != w {
				return failf(ev.Line, "fd %d: expected revents=%s, got %s", p.fd, p.revents, pollString(p.got))
			}
		}
		return nil
	}, nil
}

func pollString(v int) string {
	var parts []string
	for _, n := range []string{"POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL", "POLLRDHUP"} {
		if int64(v)&symbols[n] != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func (s *epollSet) ctl(r *runner, op, fd, events int, data Expr) error {
	var e *epollEntry
	idx := -1
	for i, x := range s.entries {
		if x.fd == fd {
			e, idx = x, i
		}
	}
	f := r.fds[fd]
	if f == nil || f.s == nil {
		return syscall.EBADF
	}
	if s.kernel != nil {
		if err := s.kernel.ctl(op, f.s, events); err != nil {
			return err
		}
	}
	switch op {
	case 1: // EPOLL_CTL_ADD
		if e != nil {
			return syscall.EEXIST
		}
		s.entries = append(s.entries, &epollEntry{fd: fd, events: events, data: data})
	case 2: // EPOLL_CTL_DEL
		if e == nil {
			return syscall.ENOENT
		}
		s.entries = append(s.entries[:idx], s.entries[idx+1:]...)
	case 3: // EPOLL_CTL_MOD
		if e == nil {
			return syscall.ENOENT
		}
		e.events, e.data, e.disabled, e.last = events, data, false, 0
	default:
		return syscall.EINVAL
	}
	return nil
}

// epollWait is epoll_wait(epfd, {events=, fd=}, maxevents, timeout): the
// runner's epoll over sock.poll, level-triggered unless EPOLLET (which
// reports readiness not reported before) or EPOLLONESHOT.
func (r *runner) epollWait(ev *Event, check func(int64, error, time.Duration) error) (callFunc, func(int64, error, time.Duration) error, error) {
	args := ev.Syscall.Args
	if err := r.needArgs(ev, 4); err != nil {
		return nil, nil, err
	}
	_, epf, err := r.fd(ev, args[0])
	if err != nil {
		return nil, nil, err
	}
	if epf.ep == nil {
		return nil, nil, failf(ev.Line, "fd %s is not an epoll instance", args[0])
	}
	maxEvents, err1 := evalInt(args[2])
	timeout, err2 := evalInt(args[3])
	if err1 != nil || err2 != nil || maxEvents < 1 {
		return nil, nil, failf(ev.Line, "epoll_wait: bad maxevents or timeout")
	}
	want := args[1]
	type fired struct {
		events int
		data   Expr
	}
	var got []fired
	try := r.waitUntil(timeout, func() int64 {
		got = got[:0]
		if k := epf.ep.kernel; k != nil {
			socks, evs, err := k.wait(int(maxEvents))
			if err != nil {
				return 0
			}
			for i, sk := range socks {
				var data Expr
				for _, e := range epf.ep.entries {
					if f := r.fds[e.fd]; f != nil && f.s == sk {
						data = e.data
					}
				}
				got = append(got, fired{evs[i], data})
			}
			return int64(len(got))
		}
		for _, e := range epf.ep.entries {
			f := r.fds[e.fd]
			if e.disabled || f == nil || f.s == nil {
				continue
			}
			mask := e.events&^(epollET|epollOneshot|1<<28|1<<29) | pollErr | pollHup
			rev := f.s.poll(mask) & mask
			if e.events&epollET != 0 {
				// An edge is new readiness, or a wakeup (data or a FIN
				// arriving, the state changing), which reports the whole
				// mask, as Linux's does.
				fresh := rev &^ e.last
				e.last = rev
				var gen any
				if g, ok := f.s.(wakeups); ok {
					gen = g.wakeups()
				}
				woke := gen != nil && gen != e.lastGen
				e.lastGen = gen
				if fresh == 0 && !woke {
					continue
				}
			}
			if rev == 0 || len(got) >= int(maxEvents) {
				continue
			}
			got = append(got, fired{rev, e.data})
			if e.events&epollOneshot != 0 {
				e.disabled = true
			}
		}
		return int64(len(got))
	})
	return try, func(res int64, err error, at time.Duration) error {
		if e := check(res, err, at); e != nil {
			return e
		}
		if len(got) == 0 || want.Kind != ExprStruct {
			return nil
		}
		for _, fl := range want.Fields {
			switch fl.Name {
			case "events":
				w, err := evalInt(fl.Value)
				if err != nil {
					return failf(ev.Line, "epoll events: %v", err)
				}
				if int64(got[0].events) != w {
					return failf(ev.Line, "expected events=%s, got %s", fl.Value, strings.ReplaceAll(pollString(got[0].events), "POLL", "EPOLL"))
				}
			default:
				if got[0].data.Kind != ExprEllipsis && fl.Value.String() != got[0].data.String() {
					return failf(ev.Line, "expected %s=%s, got %s", fl.Name, fl.Value, got[0].data)
				}
			}
		}
		return nil
	}, nil
}

// nullBuffers is a socket that can make a call with a NULL buffer: the
// Linux backend's (the kernel answers EFAULT, or for a zero length does
// the call). threeway's API takes slices and has no bad pointer; there a
// NULL buffer of nonzero length is EFAULT.
type nullBuffers interface {
	nullCall(recv bool, n, flags int, to netip.AddrPort) (int, error)
}

// nullBufferCall is write/send/sendto/read/recv/recvfrom(fd, NULL, ...).
func (r *runner) nullBufferCall(ev *Event, check func(int64, error, time.Duration) error) (callFunc, func(int64, error, time.Duration) error, error) {
	sc := ev.Syscall
	args := sc.Args
	_, f, err := r.sockCall(ev, 3)
	if err != nil {
		return nil, nil, err
	}
	n, err := evalInt(args[2])
	if err != nil || n < 0 {
		return nil, nil, failf(ev.Line, "length: %s", args[2])
	}
	var flags int64
	if len(args) > 3 && sc.Name != "write" && sc.Name != "read" {
		if flags, err = evalInt(args[3]); err != nil {
			return nil, nil, failf(ev.Line, "flags: %v", err)
		}
	}
	recv := sc.Name == "read" || sc.Name == "recv" || sc.Name == "recvfrom"
	var to netip.AddrPort
	if sc.Name == "sendto" && flags&msgFastopen != 0 {
		to = netip.AddrPortFrom(r.remoteFor(f), r.cfg.ConnectPort)
	}
	return func() (bool, int64, error) {
		nb, ok := f.s.(nullBuffers)
		if !ok {
			if n == 0 {
				return true, 0, nil
			}
			return true, -1, syscall.EFAULT
		}
		k, err := nb.nullCall(recv, int(n), int(flags), to)
		if err != nil {
			return true, -1, err
		}
		return true, int64(k), nil
	}, check, nil
}
