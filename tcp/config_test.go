package tcp

import (
	"testing"
	"time"
)

// TestConfigNormalize: zero and negative fields take their defaults, set
// ones stay, MaxRTO under 60 s is raised to the default (RFC 6298 §2.5)
// and DelayedAck is capped (MUST-40).
func TestConfigNormalize(t *testing.T) {
	var zero Config
	zero.normalize()
	want := DefaultConfig()
	want.DelayedAck = DefaultDelayedAck
	if zero != want {
		t.Fatalf("zero Config normalized to\n%+v\nwant\n%+v", zero, want)
	}
	neg := Config{MTU: -1, SendBuffer: -1, Retries: -3, MinRTO: -time.Second, MSL: -1, FastOpenCacheSize: -1}
	neg.normalize()
	if neg != want {
		t.Fatalf("negative fields normalized to\n%+v\nwant\n%+v", neg, want)
	}
	set := Config{MTU: 9000, SynQueue: 7, MinRTO: time.Millisecond, MaxRTO: 30 * time.Second, DelayedAck: time.Second}
	set.normalize()
	if set.MTU != 9000 || set.SynQueue != 7 || set.MinRTO != time.Millisecond {
		t.Fatalf("set fields changed: %+v", set)
	}
	if set.MaxRTO != want.MaxRTO {
		t.Fatalf("MaxRTO 30 s normalized to %v, want %v", set.MaxRTO, want.MaxRTO)
	}
	if set.DelayedAck != maxDelayedAck {
		t.Fatalf("DelayedAck 1 s normalized to %v, want %v", set.DelayedAck, maxDelayedAck)
	}
	long := Config{MaxRTO: 90 * time.Second}
	long.normalize()
	if long.MaxRTO != 90*time.Second {
		t.Fatalf("MaxRTO 90 s normalized to %v", long.MaxRTO)
	}
}
