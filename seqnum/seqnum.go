// Package seqnum is serial-number arithmetic for TCP sequence numbers:
// comparisons modulo 2^32 (RFC 9293 §3.4, RFC 1982).
package seqnum

// Value is a TCP sequence or acknowledgment number.
type Value uint32

// Size is a length in sequence space (a window or a segment length).
type Size uint32

// LessThan reports v < w in sequence space.
func (v Value) LessThan(w Value) bool { return int32(v-w) < 0 }

// LessThanEq reports v <= w in sequence space.
func (v Value) LessThanEq(w Value) bool { return int32(v-w) <= 0 }

// GreaterThan reports v > w in sequence space.
func (v Value) GreaterThan(w Value) bool { return int32(v-w) > 0 }

// GreaterThanEq reports v >= w in sequence space.
func (v Value) GreaterThanEq(w Value) bool { return int32(v-w) >= 0 }

// InRange reports a <= v < b.
func (v Value) InRange(a, b Value) bool { return v-a < b-a }

// InWindow reports whether v lies in the window [first, first+size).
func (v Value) InWindow(first Value, size Size) bool { return v.InRange(first, first.Add(size)) }

// Add returns v+s.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Sub returns v-s.
func (v Value) Sub(s Size) Value { return v - Value(s) }

// Size returns the distance from v forward to w (w-v).
func (v Value) Size(w Value) Size { return Size(w - v) }

// Max returns the later of v and w.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns the earlier of v and w.
func Min(v, w Value) Value {
	if v.LessThan(w) {
		return v
	}
	return w
}
