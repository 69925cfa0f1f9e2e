package tcp

// ResetFor fills rst with the reset that answers seg when no connection
// exists (RFC 9293 §3.10.7.1): <SEQ=SEG.ACK><CTL=RST> if seg has ACK,
// else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. A RST is never answered
// (it reports false).
func ResetFor(seg *Segment, rst *Segment) bool {
	if seg.has(flagRST) {
		return false
	}
	*rst = Segment{}
	if seg.has(flagACK) {
		rst.Seq = seg.Ack
		rst.Flags = flagRST
	} else {
		rst.Ack = seg.Seq.Add(seg.Len())
		rst.Flags = flagRST | flagACK
	}
	return true
}
