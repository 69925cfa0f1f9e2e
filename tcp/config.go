package tcp

import "time"

// Config holds the tunables of every connection in an Env.
type Config struct {
	MTU               int           // link MTU; advertised MSS is MTU-40 (IPv4) or MTU-60 (IPv6)
	SendBuffer        int           // bytes
	RecvBuffer        int           // bytes
	SynRetries        int           // SYN retransmissions before ETIMEDOUT (default 7: gives up at 247 s, MUST-23; Linux's 6 gives 127 s)
	SynAckRetries     int           // SYN-ACK retransmissions before a half-open child is dropped (Linux: 5)
	Retries           int           // data retransmissions before ETIMEDOUT (Linux tcp_retries2: 15)
	InitialRTO        time.Duration // RFC 6298 §2.1: 1 s
	MinRTO            time.Duration // RFC 6298 §2.4: 1 s
	MaxRTO            time.Duration // RFC 6298 §2.5: at least 60 s
	MSL               time.Duration // TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2)
	NoWindowScaling   bool          // do not offer window scale (RFC 7323 §2)
	NoSACK            bool          // do not offer SACK-permitted (RFC 2018)
	NoTimestamps      bool          // do not offer timestamps (RFC 7323 §3)
	ChallengeAckRate  int           // RFC 5961 §7: challenge ACKs per second per Env (Linux: 1000)
	SynQueue          int           // half-open children per listener
	AcceptQueue       int           // established, unaccepted children per listener
	SynCookies        CookieMode    // when listeners answer with SYN cookies (RFC 4987 §3.6); default: when the SYN queue is full
	CongestionControl CCAlgorithm   // per-stack algorithm (cc.go); a Conn may override it
	DelayedAck        time.Duration // delayed-ACK timeout (delack.go): default 40 ms, at most 499 ms (MUST-40)
	NoDelayedAck      bool          // acknowledge every segment with text at once
	ECN               ECNMode       // RFC 3168 (ecn.go): default accept the peer's request, ECNOn to ask too
}

// DefaultConfig returns the defaults: Linux-like limits and the RFC timers.
func DefaultConfig() Config {
	return Config{
		MTU:              1500,
		SendBuffer:       256 << 10,
		RecvBuffer:       256 << 10,
		SynRetries:       7, // RFC 9293 MUST-23: retransmit a SYN for at least 3 minutes (last try at 127 s, give up at 247 s)
		SynAckRetries:    5,
		Retries:          15,
		InitialRTO:       time.Second,
		MinRTO:           200 * time.Millisecond,
		MaxRTO:           120 * time.Second,
		MSL:              30 * time.Second,
		ChallengeAckRate: 1000,
		SynQueue:         256,
		AcceptQueue:      128,
	}
}

func (c *Config) normalize() {
	d := DefaultConfig()
	if c.MTU <= 0 {
		c.MTU = d.MTU
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = d.SendBuffer
	}
	if c.RecvBuffer <= 0 {
		c.RecvBuffer = d.RecvBuffer
	}
	if c.SynRetries <= 0 {
		c.SynRetries = d.SynRetries
	}
	if c.SynAckRetries <= 0 {
		c.SynAckRetries = d.SynAckRetries
	}
	if c.Retries <= 0 {
		c.Retries = d.Retries
	}
	if c.InitialRTO <= 0 {
		c.InitialRTO = d.InitialRTO
	}
	if c.MinRTO <= 0 {
		c.MinRTO = d.MinRTO
	}
	if c.MaxRTO < 60*time.Second {
		c.MaxRTO = d.MaxRTO
	}
	if c.MSL <= 0 {
		c.MSL = d.MSL
	}
	if c.DelayedAck <= 0 {
		c.DelayedAck = DefaultDelayedAck
	}
	c.DelayedAck = min(c.DelayedAck, maxDelayedAck)
	if c.ChallengeAckRate <= 0 {
		c.ChallengeAckRate = d.ChallengeAckRate
	}
	if c.SynQueue <= 0 {
		c.SynQueue = d.SynQueue
	}
	if c.AcceptQueue <= 0 {
		c.AcceptQueue = d.AcceptQueue
	}
}

// Env is what every connection of one stack shares: configuration,
// counters, the ISN generator, the challenge-ACK limiter and an optional
// Observer. It is not safe for concurrent use; the caller serializes.
type Env struct {
	Config    Config
	Stats     Stats
	ISN       ISNGenerator
	Observer  Observer
	challenge challengeLimiter
	sendPool  bufferPool
	recvPool  bufferPool
}

// NewEnv returns an Env with cfg (zero fields take defaults) and an ISN
// generator keyed by secret.
func NewEnv(cfg Config, secret [16]byte) *Env {
	cfg.normalize()
	e := &Env{Config: cfg, ISN: NewISNGenerator(secret)}
	e.sendPool.size = cfg.SendBuffer
	e.recvPool.size = cfg.RecvBuffer
	return e
}
