package threeway

import (
	"expvar"
	"github.com/threeway-tcp/threeway/host"

	"github.com/threeway-tcp/threeway/tcp"
)

// Stats are the stack's counters, like `netstat -s`: the core's TCP
// counters plus drops by reason.
type Stats struct {
	tcp.Stats
	UDP  UDPStats
	ICMP ICMPStats
}

// UDPStats are the UDP counters (host.UDPStats).
type UDPStats = host.UDPStats

// ICMPStats are the ICMP counters (host.ICMPStats).
type ICMPStats = host.ICMPStats

// DropCounts returns the non-zero drop counters by reason name.
func (s *Stats) DropCounts() map[string]uint64 {
	m := make(map[string]uint64)
	for r, n := range s.Drops {
		if n > 0 {
			m[tcp.DropReason(r).String()] = n
		}
	}
	return m
}

// Map returns every counter by name, for expvar and printing.
func (s *Stats) Map() map[string]any {
	st := &s.Stats
	return map[string]any{
		"ActiveOpens":            st.ActiveOpens,
		"PassiveOpens":           st.PassiveOpens,
		"AttemptFails":           st.AttemptFails,
		"EstabResets":            st.EstabResets,
		"CurrEstab":              st.CurrEstab,
		"InSegs":                 st.InSegs,
		"OutSegs":                st.OutSegs,
		"RetransSegs":            st.RetransSegs,
		"InErrs":                 st.InErrs,
		"OutRsts":                st.OutRsts,
		"ChallengeAcks":          st.ChallengeAcks,
		"SynRetrans":             st.SynRetrans,
		"SynAckRetrans":          st.SynAckRetrans,
		"Timeouts":               st.Timeouts,
		"TimeWaitReopen":         st.TimeWaitReopen,
		"PAWSRejects":            st.PAWSRejects,
		"ListenOverflows":        st.ListenOverflows,
		"ListenDrops":            st.ListenDrops,
		"SyncookiesSent":         st.SyncookiesSent,
		"SyncookiesRecv":         st.SyncookiesRecv,
		"SyncookiesFailed":       st.SyncookiesFailed,
		"SyncookiesNoTS":         st.SyncookiesNoTS,
		"KeepAliveProbes":        st.KeepAliveProbes,
		"UDP":                    s.UDP.Map(),
		"ICMP":                   s.ICMP.Map(),
		"ECNCEReceived":          st.ECNCEReceived,
		"ECNReductions":          st.ECNReductions,
		"FastRecoveries":         st.FastRecoveries,
		"RTOs":                   st.RTOs,
		"LossProbes":             st.LossProbes,
		"SpuriousUndos":          st.SpuriousUndos,
		"DSACKsReceived":         st.DSACKsReceived,
		"FastOpenActive":         st.FastOpenActive,
		"FastOpenActiveFail":     st.FastOpenActiveFail,
		"FastOpenCookieReqSent":  st.FastOpenCookieReqSent,
		"FastOpenPassive":        st.FastOpenPassive,
		"FastOpenPassiveFail":    st.FastOpenPassiveFail,
		"FastOpenListenOverflow": st.FastOpenListenOverflow,
		"FastOpenCookieReqd":     st.FastOpenCookieReqd,
		"FastOpenBlackhole":      st.FastOpenBlackhole,
		"Drops":                  s.DropCounts(),

		"ACKSkippedChallenge": st.ACKSkippedChallenge,
		"ACKSkippedSeq":       st.ACKSkippedSeq,
		"ACKSkippedPAWS":      st.ACKSkippedPAWS,
		"ACKSkippedSynRecv":   st.ACKSkippedSynRecv,
		"ACKSkippedTimeWait":  st.ACKSkippedTimeWait,
	}
}

// Stats returns a snapshot of the stack's counters.
func (s *Stack) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.host.Stats()
	return Stats{s.env.Stats, hs.UDP, hs.ICMP}
}

// PublishExpvar publishes the stack's counters under name in expvar
// (served at /debug/vars by net/http's default mux).
func (s *Stack) PublishExpvar(name string) {
	expvar.Publish(name, expvar.Func(func() any {
		st := s.Stats()
		return st.Map()
	}))
}
