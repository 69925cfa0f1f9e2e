package tcp

// prr is Proportional Rate Reduction (RFC 6937 §3): during recovery it
// spreads the window reduction over the ACKs of one round trip, sending
// ssthresh/RecoverFS of what is delivered while pipe > ssthresh and, once
// pipe falls below, growing back towards ssthresh no faster than slow
// start (the slow-start reduction bound, PRR-SSRB).
type prr struct {
	recoverFS uint32 // RecoverFS: FlightSize when recovery began
	delivered uint32 // prr_delivered: octets delivered since then
	out       uint32 // prr_out: octets sent since then
}

// start is RFC 6937 §3.1's initialization on entering recovery.
func (p *prr) start(flight uint32) {
	*p = prr{recoverFS: max(flight, 1)}
}

// sndcnt is RFC 6937 §3.1's per-ACK step: given what this ACK delivered,
// the pipe after it and ssthresh, how many octets may be sent now.
func (p *prr) sndcnt(deliveredData, pipe, ssthresh, mss uint32) uint32 {
	p.delivered += deliveredData
	var cnt int64
	if pipe > ssthresh {
		// Proportional part: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
		rs := uint64(p.recoverFS)
		cnt = int64((uint64(p.delivered)*uint64(ssthresh)+rs-1)/rs) - int64(p.out)
	} else {
		// PRR-SSRB: limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS.
		limit := max(int64(p.delivered)-int64(p.out), int64(deliveredData)) + int64(mss)
		cnt = min(int64(ssthresh)-int64(pipe), limit)
	}
	return uint32(max(cnt, 0))
}

// sent counts octets sent during recovery (prr_out).
func (p *prr) sent(n uint32) { p.out += n }
