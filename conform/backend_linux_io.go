//go:build linux

package conform

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (s *linuxSock) send(n, flags int, to netip.AddrPort) (int, error) {
	if n > len(zeros) {
		n = len(zeros)
	}
	var sa syscall.Sockaddr
	if to.IsValid() {
		sa = sockaddr(to)
	}
	return syscall.SendmsgN(s.fd, zeros[:n], nil, sa, flags|syscall.MSG_NOSIGNAL|syscall.MSG_DONTWAIT)
}

// sendUnspec is sendto with a sockaddr of family AF_UNSPEC, which Go's
// syscall.Sockaddr cannot express.
func (s *linuxSock) sendUnspec(n, flags int) (int, error) {
	n = min(n, len(zeros))
	var sa [16]byte // struct sockaddr, sa_family AF_UNSPEC (0)
	k, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&zeros[0])), uintptr(n),
		uintptr(flags|syscall.MSG_NOSIGNAL|syscall.MSG_DONTWAIT), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return 0, e
	}
	return int(k), nil
}

func (s *linuxSock) recv(n, flags int) (int, int, []cmsg, error) {
	buf := make([]byte, n)
	oob := make([]byte, 4096)
	k, oobn, mflags, _, err := syscall.Recvmsg(s.fd, buf, oob, flags|syscall.MSG_DONTWAIT)
	if err != nil {
		return 0, 0, nil, err
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return 0, 0, nil, err
	}
	var out []cmsg
	for _, m := range msgs {
		c := cmsg{level: int(m.Header.Level), typ: int(m.Header.Type)}
		recvErr := m.Header.Level == syscall.SOL_IP && m.Header.Type == syscall.IP_RECVERR ||
			m.Header.Level == syscall.SOL_IPV6 && m.Header.Type == syscall.IPV6_RECVERR
		if recvErr && len(m.Data) >= 16 {
			// struct sock_extended_err (linux/errqueue.h).
			d := m.Data
			c.fields = map[string]int64{
				"ee_errno": int64(binary.NativeEndian.Uint32(d[0:])), "ee_origin": int64(d[4]),
				"ee_type": int64(d[5]), "ee_code": int64(d[6]),
				"ee_info": int64(binary.NativeEndian.Uint32(d[8:])), "ee_data": int64(binary.NativeEndian.Uint32(d[12:])),
			}
		}
		out = append(out, c)
	}
	return k, mflags, out, nil
}

func (s *linuxSock) ioctl(req int) (int, error) { return unix.IoctlGetInt(s.fd, uint(req)) }

func (s *linuxSock) poll(events int) int {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: int16(events)}}
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
		return 0
	}
	return int(uint16(fds[0].Revents))
}

func (s *linuxSock) info() (map[string]int64, error) {
	ti, err := unix.GetsockoptTCPInfo(s.fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return nil, err
	}
	return map[string]int64{
		"tcpi_state": int64(ti.State), "tcpi_ca_state": int64(ti.Ca_state), "tcpi_retransmits": int64(ti.Retransmits),
		"tcpi_probes": int64(ti.Probes), "tcpi_backoff": int64(ti.Backoff), "tcpi_options": int64(ti.Options),
		"tcpi_rto": int64(ti.Rto), "tcpi_ato": int64(ti.Ato), "tcpi_snd_mss": int64(ti.Snd_mss), "tcpi_rcv_mss": int64(ti.Rcv_mss),
		"tcpi_unacked": int64(ti.Unacked), "tcpi_sacked": int64(ti.Sacked), "tcpi_lost": int64(ti.Lost),
		"tcpi_retrans": int64(ti.Retrans), "tcpi_fackets": int64(ti.Fackets),
		"tcpi_last_data_sent": int64(ti.Last_data_sent), "tcpi_last_ack_sent": int64(ti.Last_ack_sent),
		"tcpi_last_data_recv": int64(ti.Last_data_recv), "tcpi_last_ack_recv": int64(ti.Last_ack_recv),
		"tcpi_pmtu": int64(ti.Pmtu), "tcpi_rcv_ssthresh": int64(ti.Rcv_ssthresh), "tcpi_rtt": int64(ti.Rtt),
		"tcpi_rttvar": int64(ti.Rttvar), "tcpi_snd_ssthresh": int64(ti.Snd_ssthresh), "tcpi_snd_cwnd": int64(ti.Snd_cwnd),
		"tcpi_advmss": int64(ti.Advmss), "tcpi_reordering": int64(ti.Reordering), "tcpi_rcv_rtt": int64(ti.Rcv_rtt),
		"tcpi_rcv_space": int64(ti.Rcv_space), "tcpi_total_retrans": int64(ti.Total_retrans),
		"tcpi_pacing_rate": int64(ti.Pacing_rate), "tcpi_max_pacing_rate": int64(ti.Max_pacing_rate),
		"tcpi_bytes_acked": int64(ti.Bytes_acked), "tcpi_bytes_received": int64(ti.Bytes_received),
		"tcpi_segs_out": int64(ti.Segs_out), "tcpi_segs_in": int64(ti.Segs_in), "tcpi_notsent_bytes": int64(ti.Notsent_bytes),
		"tcpi_min_rtt": int64(ti.Min_rtt), "tcpi_data_segs_in": int64(ti.Data_segs_in), "tcpi_data_segs_out": int64(ti.Data_segs_out),
		"tcpi_delivery_rate": int64(ti.Delivery_rate), "tcpi_busy_time": int64(ti.Busy_time),
		"tcpi_rwnd_limited": int64(ti.Rwnd_limited), "tcpi_sndbuf_limited": int64(ti.Sndbuf_limited),
		"tcpi_delivered": int64(ti.Delivered), "tcpi_delivered_ce": int64(ti.Delivered_ce),
		"tcpi_bytes_sent": int64(ti.Bytes_sent), "tcpi_bytes_retrans": int64(ti.Bytes_retrans),
		"tcpi_dsack_dups": int64(ti.Dsack_dups), "tcpi_reord_seen": int64(ti.Reord_seen),
		"tcpi_rcv_ooopack": int64(ti.Rcv_ooopack), "tcpi_snd_wnd": int64(ti.Snd_wnd), "tcpi_rcv_wnd": int64(ti.Rcv_wnd),
	}, nil
}

// nullCall makes a send or receive call with a NULL buffer, which the
// kernel answers with EFAULT (or, with MSG_FASTOPEN, connects first).
func (s *linuxSock) nullCall(recv bool, n, flags int, to netip.AddrPort) (int, error) {
	flags |= syscall.MSG_DONTWAIT
	if recv {
		k, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(s.fd), 0, uintptr(n), uintptr(flags), 0, 0)
		if e != 0 {
			return 0, e
		}
		return int(k), nil
	}
	flags |= syscall.MSG_NOSIGNAL
	var sa unsafe.Pointer
	var salen uintptr
	var sa4 syscall.RawSockaddrInet4
	var sa6 syscall.RawSockaddrInet6
	if to.IsValid() {
		p := to.Port()
		if to.Addr().Is4() {
			sa4.Family = syscall.AF_INET
			binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], p)
			sa4.Addr = to.Addr().As4()
			sa, salen = unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
		} else {
			sa6.Family = syscall.AF_INET6
			binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], p)
			sa6.Addr = to.Addr().As16()
			sa, salen = unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
		}
	}
	k, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(s.fd), 0, uintptr(n), uintptr(flags), uintptr(sa), salen)
	if e != 0 {
		return 0, e
	}
	return int(k), nil
}

// linuxEpoll is a kernel epoll instance over the backend's sockets.
type linuxEpoll struct {
	fd    int
	socks map[int32]sock // by the socket's fd, which each event carries
	done  bool
}

func (b *linuxBackend) newEpoll() (kernelEpoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	e := &linuxEpoll{fd: fd, socks: map[int32]sock{}}
	b.epolls = append(b.epolls, e)
	return e, nil
}

func (e *linuxEpoll) ctl(op int, s sock, events int) error {
	ls, ok := s.(*linuxSock)
	if !ok {
		return syscall.EBADF
	}
	ev := unix.EpollEvent{Events: uint32(events), Fd: int32(ls.fd)}
	if err := unix.EpollCtl(e.fd, op, ls.fd, &ev); err != nil {
		return err
	}
	e.socks[int32(ls.fd)] = s
	return nil
}

func (e *linuxEpoll) wait(max int) ([]sock, []int, error) {
	evs := make([]unix.EpollEvent, max)
	n, err := unix.EpollWait(e.fd, evs, 0)
	if err != nil {
		return nil, nil, err
	}
	var socks []sock
	var events []int
	for _, ev := range evs[:n] {
		socks = append(socks, e.socks[ev.Fd])
		events = append(events, int(ev.Events))
	}
	return socks, events, nil
}

func (e *linuxEpoll) close() error {
	if e.done {
		return syscall.EBADF
	}
	e.done = true
	return syscall.Close(e.fd)
}

// sendBlocking makes a blocking send on its own goroutine: the socket is
// blocking while it runs (the runner makes no other call meanwhile, as a
// script's calls run one at a time), and non-blocking again after.
func (s *linuxSock) sendBlocking(n, flags int, to netip.AddrPort) <-chan sendResult {
	done := make(chan sendResult, 1)
	if n > len(zeros) {
		n = len(zeros)
	}
	var sa syscall.Sockaddr
	if to.IsValid() {
		sa = sockaddr(to)
	}
	if err := syscall.SetNonblock(s.fd, false); err != nil {
		done <- sendResult{err: err}
		return done
	}
	s.blocked.Add(1)
	go func() {
		defer s.blocked.Add(-1)
		k, err := syscall.SendmsgN(s.fd, zeros[:n], nil, sa, flags|syscall.MSG_NOSIGNAL)
		if e := syscall.SetNonblock(s.fd, true); e != nil && err == nil {
			err = e
		}
		done <- sendResult{k, err}
	}()
	return done
}
