package tcp

// DropReason says why the core discarded a segment. Every drop is counted
// in Stats.Drops and reported to the Observer.
type DropReason uint8

// Drop reasons. The runtime adds its own for segments that never reach a
// connection (bad checksum, malformed header, no listener).
const (
	DropNone DropReason = iota
	DropMalformed
	DropBadChecksum
	DropNoConnection
	DropOutOfWindow         // RFC 9293 §3.10.7.4 first check: unacceptable sequence number
	DropPAWSReject          // RFC 7323 §5.3: timestamp older than TS.Recent
	DropBadAckInSynSent     // RFC 9293 §3.10.7.3: SEG.ACK =< ISS or > SND.NXT
	DropRSTUnacceptable     // RST in SYN-SENT without an acceptable ACK
	DropRSTOutOfWindow      // RFC 5961 §3.2: RST outside the receive window
	DropRSTChallenged       // RFC 5961 §3.2: RST in window but not exact; challenge ACK sent
	DropRSTInTimeWait       // RFC 1337: RST ignored in TIME-WAIT
	DropSYNChallenged       // RFC 5961 §4.2: SYN in a synchronized state
	DropChallengeAckLimited // RFC 5961 §7: challenge ACK suppressed by the rate limit
	DropAckUnacceptable     // RFC 5961 §5.2: SEG.ACK outside [SND.UNA-MAX.SND.WND, SND.NXT]
	DropAckNotSet           // RFC 9293 §3.10.7.4 fifth check: no ACK bit
	DropBadAckInSynReceived // RFC 9293 §3.10.7.4: SYN-RECEIVED ACK not acceptable; RST sent
	DropNoSynOrRST          // SYN-SENT: neither SYN nor RST
	DropListenRST           // LISTEN: RST ignored
	DropListenAck           // LISTEN: ACK answered with RST
	DropListenNoSyn         // LISTEN: no SYN
	DropSynQueueFull        // listener's SYN queue full
	DropAcceptQueueFull     // listener's accept queue full; final ACK ignored
	DropDataAfterFin        // text after the peer's FIN
	DropClosed              // segment for a closed connection
	DropMissingTimestamp    // RFC 7323 §3.2: no TSopt once timestamps were negotiated
	DropReassemblyFull      // too many out-of-order blocks held
	DropNotForUs            // runtime: destination is not one of the stack's addresses, or a multicast source
	DropUnsupported         // runtime: not TCP, or an IP fragment
	DropBadCookie           // an ACK to a listener with no valid SYN cookie
	DropBadOffloadHeader    // runtime: the link refused the packet's offload (virtio-net) header
	numDropReasons
)

var dropNames = [...]string{
	DropNone:                "None",
	DropMalformed:           "Malformed",
	DropBadChecksum:         "BadChecksum",
	DropNoConnection:        "NoConnection",
	DropOutOfWindow:         "OutOfWindow",
	DropPAWSReject:          "PAWSReject",
	DropBadAckInSynSent:     "BadAckInSynSent",
	DropRSTUnacceptable:     "RSTUnacceptable",
	DropRSTOutOfWindow:      "RSTOutOfWindow",
	DropRSTChallenged:       "RSTChallenged",
	DropRSTInTimeWait:       "RSTInTimeWait",
	DropSYNChallenged:       "SYNChallenged",
	DropChallengeAckLimited: "ChallengeAckRateLimited",
	DropAckUnacceptable:     "AckUnacceptable",
	DropAckNotSet:           "AckNotSet",
	DropBadAckInSynReceived: "BadAckInSynReceived",
	DropNoSynOrRST:          "NoSynOrRST",
	DropListenRST:           "ListenRST",
	DropListenAck:           "ListenAck",
	DropListenNoSyn:         "ListenNoSyn",
	DropSynQueueFull:        "SynQueueFull",
	DropAcceptQueueFull:     "AcceptQueueFull",
	DropDataAfterFin:        "DataAfterFin",
	DropClosed:              "Closed",
	DropMissingTimestamp:    "MissingTimestamp",
	DropReassemblyFull:      "ReassemblyFull",
	DropNotForUs:            "NotForUs",
	DropUnsupported:         "Unsupported",
	DropBadCookie:           "BadCookie",
	DropBadOffloadHeader:    "BadOffloadHeader",
}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return "Unknown"
}

// NumDropReasons is the number of distinct drop reasons.
const NumDropReasons = int(numDropReasons)
