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
	if c.InvalidRateLimit <= 0 {
		c.InvalidRateLimit = d.InvalidRateLimit
	}
	if c.DelayedAck <= 0 {
		c.DelayedAck = DefaultDelayedAck
	}
	c.DelayedAck = min(c.DelayedAck, maxDelayedAck)
	if c.SynQueue <= 0 {
		c.SynQueue = d.SynQueue
	}
	if c.AcceptQueue <= 0 {
		c.AcceptQueue = d.AcceptQueue
	}
	if c.FastOpenKeyPeriod <= 0 {
		c.FastOpenKeyPeriod = d.FastOpenKeyPeriod
	}
	if c.FastOpenCacheSize <= 0 {
		c.FastOpenCacheSize = d.FastOpenCacheSize
	}
	if c.FastOpenConnectDelay <= 0 {
		c.FastOpenConnectDelay = d.FastOpenConnectDelay
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
