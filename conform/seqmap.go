package conform

// seqMap turns a script's relative sequence numbers into the numbers on
// the wire for one connection, and back.
//
// The script side (the remote) writes absolute sequence numbers on SYN
// segments and numbers relative to its first SYN otherwise; packetdrill
// scripts start at 0, where the two agree. The stack's sequence numbers
// are relative to its initial sequence number, learned from its first
// SYN or SYN-ACK. A SYN the script injects with a new sequence number
// (a new incarnation, e.g. out of TIME-WAIT) makes the stack's next SYN
// or SYN-ACK teach a new ISN; a retransmitted SYN does not.
//
// Timestamps: inbound TS val and outbound TS ecr are the script's values
// as written. Outbound TS val is not checked, but remembered: an inbound
// TS ecr names the script's TS val of a previous outbound packet and is
// sent as the value the stack really used there.
type seqMap struct {
	remoteISN   uint32
	remoteKnown bool
	stackISN    uint32
	stackKnown  bool
	relearn     bool

	ts       map[uint32]uint32 // script TS val -> stack's actual TS val
	tsScript uint32            // the latest outbound TS val, as written
	tsActual uint32            // and as sent
	tsSeen   bool
	tsLast   uint32 // the stack's latest TS val in any matched packet
	tsAny    bool
}

// inboundSeq returns the wire sequence number of an injected segment.
func (m *seqMap) inboundSeq(start uint32, syn, ack bool) uint32 {
	if syn {
		if !m.remoteKnown {
			m.remoteISN, m.remoteKnown = start, true
		} else if start != m.remoteISN && !ack {
			m.relearn = true
		}
		return start
	}
	return m.remoteISN + start
}

// inboundAck maps an injected segment's ack (or a SACK edge, which also
// names the stack's sequence space).
func (m *seqMap) inboundAck(v uint32) uint32 { return m.stackISN + v }

// outboundAck is what the stack's ack field (or SACK edge) should be.
func (m *seqMap) outboundAck(v uint32) uint32 { return m.remoteISN + v }

// expectSeq returns the wire sequence number an expected outbound segment
// should carry. For a SYN it first learns the stack's ISN from got when
// that is not yet known (or a new incarnation began).
func (m *seqMap) expectSeq(start uint32, syn bool, got uint32) uint32 {
	if syn && (!m.stackKnown || m.relearn) {
		m.stackISN, m.stackKnown, m.relearn = got-start, true, false
	}
	return m.stackISN + start
}

// relSeq renders an outbound wire sequence number relative to the
// stack's ISN (absolute while unknown, as tcpdump prints SYNs).
func (m *seqMap) relSeq(v uint32) uint32 {
	if m.stackKnown {
		return v - m.stackISN
	}
	return v
}

// relAck renders an outbound ack relative to the script side's ISN.
func (m *seqMap) relAck(v uint32) uint32 { return v - m.remoteISN }

// sawTSVal records that the script's TS val script was really actual.
func (m *seqMap) sawTSVal(script, actual uint32) {
	if m.ts == nil {
		m.ts = map[uint32]uint32{}
	}
	m.ts[script] = actual
	m.tsScript, m.tsActual, m.tsSeen = script, actual, true
}

// sawAnyTSVal records the TS val of a matched packet whose options the
// script did not spell out (<...>).
func (m *seqMap) sawAnyTSVal(actual uint32) { m.tsLast, m.tsAny = actual, true }

// inboundEcr maps an injected TS ecr: a TS val the script wrote for an
// earlier outbound packet becomes the value the stack used; another
// value is taken as an offset from the latest one written; with none
// written, the stack's latest TS val is echoed; 0 stays 0.
func (m *seqMap) inboundEcr(ecr uint32) uint32 {
	if ecr == 0 {
		return 0
	}
	if v, ok := m.ts[ecr]; ok {
		return v
	}
	if m.tsSeen {
		return m.tsActual + (ecr - m.tsScript)
	}
	if m.tsAny {
		return m.tsLast
	}
	return ecr
}
