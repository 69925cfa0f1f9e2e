package tcp

// Stats are counters in the spirit of `netstat -s` (RFC 4022's MIB names
// where one exists). The core updates them with plain adds: the caller
// that serializes calls into the core also guards its Stats.
type Stats struct {
	ActiveOpens      uint64 // CLOSED -> SYN-SENT
	PassiveOpens     uint64 // LISTEN -> SYN-RECEIVED
	AttemptFails     uint64 // SYN-SENT/SYN-RECEIVED -> CLOSED, or SYN-RECEIVED -> LISTEN
	EstabResets      uint64 // ESTABLISHED/CLOSE-WAIT -> CLOSED by RST
	CurrEstab        int64  // connections in ESTABLISHED or CLOSE-WAIT
	InSegs           uint64
	OutSegs          uint64
	RetransSegs      uint64
	InErrs           uint64
	OutRsts          uint64
	ChallengeAcks    uint64 // RFC 5961 challenge ACKs sent
	SynRetrans       uint64
	SynAckRetrans    uint64
	Timeouts         uint64 // connections closed by retransmission timeout
	TimeWaitReopen   uint64 // SYNs that reopened a TIME-WAIT connection
	PAWSRejects      uint64
	ListenOverflows  uint64 // final ACK dropped: accept queue full (Linux ListenOverflows)
	ListenDrops      uint64 // SYNs dropped by a listener (Linux ListenDrops)
	SyncookiesSent   uint64 // SYN-ACKs carrying a cookie
	SyncookiesRecv   uint64 // connections built from a valid cookie
	SyncookiesFailed uint64 // ACKs whose cookie was forged, stale or wrong
	SyncookiesNoTS   uint64 // cookies sent without timestamps: only the MSS survives
	KeepAliveProbes  uint64 // keep-alive probes sent
	ECNCEReceived    uint64 // text segments that arrived CE-marked (RFC 3168)
	ECNReductions    uint64 // window reductions for ECE
	// Loss recovery (Linux's TcpExt names where one exists).
	FastRecoveries uint64 // recoveries entered on SACK, RACK or duplicate ACKs (TCPSackRecovery+TCPRenoRecovery)
	RTOs           uint64 // retransmission timeouts of data (TCPTimeouts)
	LossProbes     uint64 // tail loss probes sent (TCPLossProbes)
	SpuriousUndos  uint64 // window reductions undone: D-SACK or F-RTO (TCPFullUndo+TCPSpuriousRTOs)
	DSACKsReceived uint64 // D-SACK blocks received (TCPDSACKRecv)
	Drops          [NumDropReasons]uint64
}

// Observer, when set in an Env, hears about state changes and drops.
type Observer interface {
	StateChanged(c *Conn, from, to State)
	Dropped(t Tuple, seg *Segment, r DropReason)
}
