package tcp

import (
	"fmt"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway/seqnum"
)

// CAState is a sender's congestion-avoidance state, as Linux's tcp_info
// reports it (tcpi_ca_state).
type CAState uint8

// Congestion-avoidance states.
const (
	CAOpen     CAState = iota // no loss suspected
	CADisorder                // duplicate ACKs seen, below the threshold
	CACWR                     // cwnd reduced by ECN (threeway has no ECN yet)
	CARecovery                // RFC 6582 fast recovery
	CALoss                    // RFC 6298 §5.5: after a retransmission timeout
)

func (s CAState) String() string {
	switch s {
	case CAOpen:
		return "open"
	case CADisorder:
		return "disorder"
	case CACWR:
		return "cwr"
	case CARecovery:
		return "recovery"
	case CALoss:
		return "loss"
	}
	return fmt.Sprintf("ca%d", uint8(s))
}

// InfiniteSSThresh is the slow-start threshold before the first loss
// (RFC 5681 §3.1: "arbitrarily high"), in segments as Info reports it:
// Linux's TCP_INFINITE_SSTHRESH.
const InfiniteSSThresh = 0x7fffffff

// Info is a snapshot of one connection, the fields of Linux's struct
// tcp_info that packetdrill scripts and `ss -ti` read, under Go names.
// Counts of segments (Cwnd, SSThresh, Unacked, ...) are in segments of
// the effective MSS, as Linux's are in packets.
type Info struct {
	State   State
	CAState CAState
	// Retransmits is the number of retransmission timeouts in a row
	// for the oldest unacknowledged data (tcpi_retransmits); Backoff
	// is the RTO's exponent (tcpi_backoff), the same count here.
	Retransmits, Backoff int

	// Options agreed on in the handshake (tcpi_options).
	Timestamps, SACK, WindowScale bool
	SendShift, RecvShift          uint8

	RTO, RTT, RTTVar time.Duration
	// SendMSS is the peer's MSS less our options (tcpi_snd_mss);
	// AdvMSS what we advertised (tcpi_advmss); PeerMSS the peer's
	// MSS option.
	SendMSS, AdvMSS, PeerMSS int

	Cwnd, SSThresh int // segments; SSThresh is InfiniteSSThresh before any loss
	CwndBytes      uint32
	// Unacked are the segments sent and not yet acknowledged
	// (tcpi_unacked).
	Unacked int

	SendWindow, RecvWindow uint32 // the peer's offer and ours, in bytes
	// BytesSent counts the sequence space sent, retransmissions not
	// counted twice (tcpi_bytes_sent less tcpi_bytes_retrans);
	// BytesAcked the bytes the peer acknowledged (tcpi_bytes_acked);
	// BytesReceived those received in order (tcpi_bytes_received).
	BytesSent, BytesAcked, BytesReceived uint64
	// NotSent are the bytes written and never sent (tcpi_notsent_bytes);
	// SendQueued all bytes written and not yet acknowledged (SIOCOUTQ);
	// RecvQueued the bytes ready to read (SIOCINQ).
	NotSent, SendQueued, RecvQueued int
	// SendSpace is the room left in the send buffer (what a write
	// could take now); PeerFIN is set once the peer's FIN arrived.
	SendSpace int
	PeerFIN   bool

	// From the SACK scoreboard (sack_scoreboard.go): the segments the
	// peer SACKed, those deemed lost and not yet sent again, those
	// retransmitted and still unacknowledged, and the largest reordering
	// seen in segments (at least the initial dupthresh, 3).
	Sacked, Lost, Retrans, Reordering int
	// SynData: data in a SYN was acknowledged (TCP Fast Open; Linux's
	// TCPI_OPT_SYN_DATA).
	SynData bool
	// SynDeferred: the SYN of a Fast Open connect waits for the first
	// write (Linux's defer_connect), which WriteSyn sends.
	SynDeferred bool
}

// Info returns the connection's current tcp_info.
func (c *Conn) Info() Info {
	mss := max(c.EffectiveMSS(), 1)
	segs := func(b uint32) int { return int((b + uint32(mss) - 1) / uint32(mss)) }
	in := Info{
		State:       c.state,
		Retransmits: c.retries,
		Backoff:     c.retries,
		Timestamps:  c.tsOK,
		SACK:        c.sackOK,
		WindowScale: c.wsOK,
		RTO:         c.rto,
		RTT:         c.srtt,
		RTTVar:      c.rttvar,
		SendMSS:     c.EffectiveMSS(),
		AdvMSS:      int(c.advMSS),
		PeerMSS:     int(c.sndMSS),
		Cwnd:        int(c.cong().Cwnd()) / mss,
		CwndBytes:   c.cong().Cwnd(),
		SSThresh:    int(c.cong().Ssthresh()) / mss,
		SendWindow:  c.sndWnd,
		SendQueued:  c.snd.n,
		RecvQueued:  c.rcv.n,
		SendSpace:   c.Writable(),
		PeerFIN:     c.finRcvd,
		Reordering:  3,
		SynData:     c.tfo.dataAcked(),
		SynDeferred: c.state == SynSent && c.sndMax == c.iss && c.tfo != nil && c.tfo.deferSyn,
	}
	if c.wsOK {
		in.SendShift, in.RecvShift = c.sndShift, c.rcvShift
	}
	if c.cong().Ssthresh() >= 1<<30 {
		in.SSThresh = InfiniteSSThresh
	}
	if l := c.lossState; l != nil {
		in.Sacked = segs(l.sb.sacked)
		in.Lost = segs(l.sb.lost)
		for _, sg := range l.sb.live() {
			if sg.flags&segEverRetrans != 0 && sg.flags&segSACKed == 0 {
				in.Retrans++
			}
		}
		in.Reordering = max(3, l.rec.reordering)
		switch {
		case l.rec.state == recFast:
			in.CAState = CARecovery
		case l.rec.state == recLoss || c.retries > 0 && c.state.Synchronized():
			in.CAState = CALoss
		case l.rec.dupAcks > 0 || l.sb.sacked > 0:
			in.CAState = CADisorder
		}
	}
	if c.state == SynSent || c.state == Closed && c.irs == 0 {
		return in
	}
	// The SYN and FIN take a sequence number each and carry no data.
	data := func(from, to uint32) uint64 {
		if int32(to-from) <= 0 {
			return 0
		}
		return uint64(to - from)
	}
	dataEnd := c.bufSeq.Add(seqnum.Size(c.snd.n)) // where the FIN goes, if queued
	clip := func(v uint32) uint32 {
		if c.finQueued && int32(v-uint32(dataEnd)) > 0 {
			return uint32(dataEnd)
		}
		return v
	}
	first := uint32(c.iss) + 1
	in.BytesSent = data(first, clip(uint32(c.sndMax)))
	in.BytesAcked = data(first, clip(uint32(c.sndUna)))
	in.BytesReceived = data(uint32(c.irs)+1, uint32(c.rcvNxt))
	if c.finRcvd && in.BytesReceived > 0 {
		in.BytesReceived--
	}
	in.Unacked = segs(uint32(c.sndUna.Size(c.sndMax)))
	in.NotSent = max(c.snd.n-int(data(uint32(c.bufSeq), clip(uint32(c.sndMax)))), 0)
	if c.state.Synchronized() {
		in.RecvWindow = uint32(c.rcvNxt.Size(c.rcvAdv))
	}
	return in
}

// String writes the snapshot as `ss -ti` does, one line.
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", in.State)
	var opts []string
	if in.Timestamps {
		opts = append(opts, "ts")
	}
	if in.SACK {
		opts = append(opts, "sack")
	}
	if in.WindowScale {
		opts = append(opts, fmt.Sprintf("wscale:%d,%d", in.SendShift, in.RecvShift))
	}
	if len(opts) > 0 {
		b.WriteString(" " + strings.Join(opts, " "))
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(&b, " rto:%s rtt:%s/%s mss:%d advmss:%d cwnd:%d", ms(in.RTO), ms(in.RTT), ms(in.RTTVar), in.SendMSS, in.AdvMSS, in.Cwnd)
	if in.SSThresh != InfiniteSSThresh {
		fmt.Fprintf(&b, " ssthresh:%d", in.SSThresh)
	}
	fmt.Fprintf(&b, " bytes_sent:%d bytes_acked:%d bytes_received:%d unacked:%d", in.BytesSent, in.BytesAcked, in.BytesReceived, in.Unacked)
	if in.Retransmits > 0 {
		fmt.Fprintf(&b, " retrans:%d backoff:%d", in.Retransmits, in.Backoff)
	}
	if in.CAState != CAOpen {
		fmt.Fprintf(&b, " ca:%s", in.CAState)
	}
	fmt.Fprintf(&b, " snd_wnd:%d rcv_wnd:%d notsent:%d", in.SendWindow, in.RecvWindow, in.NotSent)
	return b.String()
}
