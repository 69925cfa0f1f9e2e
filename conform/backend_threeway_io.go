package conform

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/threeway-tcp/threeway/tcp"
)

func (s *twSock) send(n, flags int, to netip.AddrPort) (int, error) {
	blocking := !s.fo.nonblock && flags&msgDontwait == 0
	if flags&msgFastopen != 0 || s.synDeferred() {
		if k, err, handled := s.sendFastOpen(n, blocking, to); handled {
			return k, err
		}
	}
	// MSG_EOR, MSG_MORE and MSG_ZEROCOPY change how Linux builds its
	// segments and what it reports on the error queue; threeway sends
	// the bytes the same way whatever they are.
	return s.writeMode(n, blocking)
}

func (s *twSock) recv(n, flags int) (int, int, []cmsg, error) {
	switch {
	case flags&msgErrqueue != 0:
		// threeway queues no zerocopy or timestamping notifications.
		return 0, 0, nil, syscall.EAGAIN
	case flags&^(msgDontwait|0x4000) != 0:
		return 0, 0, nil, syscall.EOPNOTSUPP
	}
	k, err := s.read(n)
	return k, 0, nil, err
}

func (s *twSock) ioctl(req int) (int, error) {
	if s.conn == nil {
		return 0, syscall.EINVAL
	}
	in := s.conn.Info()
	switch req {
	case 0x541b: // SIOCINQ
		return in.RecvQueued, nil
	case 0x5411: // SIOCOUTQ
		return in.SendQueued, nil
	case 0x894b: // SIOCOUTQNSD
		return in.NotSent, nil
	}
	return 0, syscall.ENOTTY
}

// poll derives poll(2)'s events from the connection's state.
func (s *twSock) poll(events int) int {
	const pollIn, pollOut, pollRdHup = 1, 4, 0x2000
	if s.conn == nil {
		if s.ln == nil {
			return pollOut | pollHup
		}
		return 0
	}
	in := s.conn.Info()
	rev := 0
	if in.RecvQueued > 0 || in.PeerFIN {
		rev |= pollIn
	}
	if in.PeerFIN {
		rev |= pollRdHup
	}
	switch in.State {
	case tcp.Established, tcp.CloseWait:
		if in.SendSpace > 0 {
			rev |= pollOut
		}
	case tcp.SynSent:
		if in.SynDeferred {
			// Linux: writable, so that the write that sends the SYN
			// comes (tcp_poll with defer_connect).
			rev |= pollOut
		}
	case tcp.Closed:
		// Linux shuts both directions of a connection that ends
		// (tcp_done), which makes it readable and writable.
		rev |= pollIn | pollOut | pollHup | pollRdHup
		if s.conn.SocketError() != nil && !s.errShown {
			rev |= pollErr
		}
	}
	return rev
}

// tcpiState is Linux's number for a state (net/tcp_states.h).
var tcpiState = map[tcp.State]int64{
	tcp.Established: 1, tcp.SynSent: 2, tcp.SynReceived: 3, tcp.FinWait1: 4, tcp.FinWait2: 5,
	tcp.TimeWait: 6, tcp.Closed: 7, tcp.CloseWait: 8, tcp.LastAck: 9, tcp.Listen: 10, tcp.Closing: 11,
}

// info maps tcp.Info onto tcp_info's names and units (microseconds,
// segments). Only what threeway keeps is there: an assertion on another
// field fails, saying threeway cannot evaluate it.
func (s *twSock) info() (map[string]int64, error) {
	if s.conn == nil {
		if s.ln != nil {
			return map[string]int64{"tcpi_state": 10}, nil
		}
		return map[string]int64{"tcpi_state": 7}, nil
	}
	in := s.conn.Info()
	us := func(d time.Duration) int64 { return int64(d / time.Microsecond) }
	opts := int64(0)
	if in.Timestamps {
		opts |= 1
	}
	if in.SACK {
		opts |= 2
	}
	if in.WindowScale {
		opts |= 4
	}
	if in.SynData {
		opts |= 32 // TCPI_OPT_SYN_DATA
	}
	return map[string]int64{
		"tcpi_state": tcpiState[in.State], "tcpi_ca_state": int64(in.CAState),
		"tcpi_retransmits": int64(in.Retransmits), "tcpi_backoff": int64(in.Backoff), "tcpi_options": opts,
		"tcpi_snd_wscale": int64(in.SendShift), "tcpi_rcv_wscale": int64(in.RecvShift),
		"tcpi_rto": us(in.RTO), "tcpi_rtt": us(in.RTT), "tcpi_rttvar": us(in.RTTVar),
		"tcpi_snd_mss": int64(in.SendMSS), "tcpi_advmss": int64(in.AdvMSS),
		"tcpi_snd_cwnd": int64(in.Cwnd), "tcpi_snd_ssthresh": int64(in.SSThresh), "tcpi_unacked": int64(in.Unacked),
		"tcpi_bytes_sent": int64(in.BytesSent), "tcpi_bytes_acked": int64(in.BytesAcked),
		"tcpi_bytes_received": int64(in.BytesReceived), "tcpi_notsent_bytes": int64(in.NotSent),
		"tcpi_snd_wnd": int64(in.SendWindow), "tcpi_rcv_wnd": int64(in.RecvWindow),
	}, nil
}

// wakeupKey is what changes when a threeway connection would wake a
// waiter: data or a FIN arriving, the state changing.
type wakeupKey struct {
	received uint64
	fin      bool
	state    tcp.State
}

func (s *twSock) wakeups() any {
	if s.conn == nil {
		return nil
	}
	in := s.conn.Info()
	return wakeupKey{in.BytesReceived, in.PeerFIN, in.State}
}
