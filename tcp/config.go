package tcp

import "time"

// Config holds the tunables of every connection in an Env.
type Config struct {
	MTU              int           // link MTU; advertised MSS is MTU-40 (IPv4) or MTU-60 (IPv6)
	SendBuffer       int           // bytes
	RecvBuffer       int           // bytes
	SynRetries       int           // SYN retransmissions before ETIMEDOUT (default 7: gives up at 247 s, MUST-23; Linux's 6 gives 127 s)
	SynAckRetries    int           // SYN-ACK retransmissions before a half-open child is dropped (Linux: 5)
	Retries          int           // data retransmissions before ETIMEDOUT (Linux tcp_retries2: 15)
	InitialRTO       time.Duration // RFC 6298 §2.1: 1 s
	MinRTO           time.Duration // RFC 6298 §2.4: 1 s
	MaxRTO           time.Duration // RFC 6298 §2.5: at least 60 s
	MSL              time.Duration // TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2)
	NoWindowScaling  bool          // do not offer window scale (RFC 7323 §2)
	NoSACK           bool          // do not offer SACK-permitted (RFC 2018)
	NoTimestamps     bool          // do not offer timestamps (RFC 7323 §3)
	InvalidRateLimit time.Duration // least time between two answers of one connection to invalid segments (ratelimit.go; Linux tcp_invalid_ratelimit: 500 ms)
	SynQueue         int           // half-open children per listener
	AcceptQueue      int           // established, unaccepted children per listener
	SynCookies       CookieMode    // when listeners answer with SYN cookies (RFC 4987 §3.6); default: when the SYN queue is full
	// FastOpenKeyPeriod is how long a Fast Open server key is current;
	// cookies stay valid for one more period after (RFC 7413 §4.1.2).
	FastOpenKeyPeriod time.Duration
	// FastOpenCacheSize bounds the client's per-server cookie cache.
	FastOpenCacheSize int
	// FastOpenConnectDelay is how long a Fast Open connect's SYN waits
	// for the first write before it goes without data.
	FastOpenConnectDelay time.Duration
	// MaxSegment is the most payload the core puts in one outgoing
	// segment when the link cuts large segments into MSS-sized ones
	// (segmentation offload; OutSegment.SegSize); 0 or less than the MSS
	// means one MSS, as without offload.
	MaxSegment        int
	CongestionControl CCAlgorithm   // per-stack algorithm (cc.go); a Conn may override it
	DelayedAck        time.Duration // delayed-ACK timeout (delack.go): default 40 ms, at most 499 ms (MUST-40)
	NoDelayedAck      bool          // acknowledge every segment with text at once
	ECN               ECNMode       // RFC 3168 (ecn.go): default accept the peer's request, ECNOn to ask too
}

// DefaultConfig returns the defaults: Linux-like limits and the RFC timers.
func DefaultConfig() Config {
	return Config{
		MTU:                  1500,
		SendBuffer:           256 << 10,
		RecvBuffer:           256 << 10,
		SynRetries:           7, // RFC 9293 MUST-23: retransmit a SYN for at least 3 minutes (last try at 127 s, give up at 247 s)
		SynAckRetries:        5,
		Retries:              15,
		InitialRTO:           time.Second,
		MinRTO:               200 * time.Millisecond,
		MaxRTO:               120 * time.Second,
		MSL:                  30 * time.Second,
		InvalidRateLimit:     500 * time.Millisecond,
		SynQueue:             256,
		AcceptQueue:          128,
		FastOpenKeyPeriod:    12 * time.Hour,
		FastOpenCacheSize:    1024,
		FastOpenConnectDelay: 100 * time.Millisecond,
	}
}

// normalize gives every field left zero (or negative) its default. MaxRTO
// below 60 s takes the default too (RFC 6298 §2.5: a maximum, if any, of
// at least 60 s); DelayedAck is at most 499 ms (RFC 9293 MUST-40).
func (c *Config) normalize() {
	d := DefaultConfig()
	orDefault(&c.MTU, d.MTU)
	orDefault(&c.SendBuffer, d.SendBuffer)
	orDefault(&c.RecvBuffer, d.RecvBuffer)
	orDefault(&c.SynRetries, d.SynRetries)
	orDefault(&c.SynAckRetries, d.SynAckRetries)
	orDefault(&c.Retries, d.Retries)
	orDefault(&c.InitialRTO, d.InitialRTO)
	orDefault(&c.MinRTO, d.MinRTO)
	if c.MaxRTO < 60*time.Second {
		c.MaxRTO = d.MaxRTO
	}
	orDefault(&c.MSL, d.MSL)
	orDefault(&c.InvalidRateLimit, d.InvalidRateLimit)
	orDefault(&c.DelayedAck, DefaultDelayedAck)
	c.DelayedAck = min(c.DelayedAck, maxDelayedAck)
	orDefault(&c.SynQueue, d.SynQueue)
	orDefault(&c.AcceptQueue, d.AcceptQueue)
	orDefault(&c.FastOpenKeyPeriod, d.FastOpenKeyPeriod)
	orDefault(&c.FastOpenCacheSize, d.FastOpenCacheSize)
	orDefault(&c.FastOpenConnectDelay, d.FastOpenConnectDelay)
}

// orDefault sets *v to def unless *v is positive.
func orDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Env is what every connection of one stack shares: configuration,
// counters, the ISN generator and an optional Observer. It is not safe
// for concurrent use; the caller serializes.
type Env struct {
	Config   Config
	Stats    Stats
	ISN      ISNGenerator
	Observer Observer
	sendPool bufferPool
	recvPool bufferPool
	// Fast Open (RFC 7413): the server's cookie keys, the client's cache.
	fastOpenKeys  fastOpenKeys
	fastOpenCache fastOpenCache
	tcbs          tcbPool // connections handed back by Recycle
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
