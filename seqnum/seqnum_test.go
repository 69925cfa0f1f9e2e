package seqnum

import "testing"

func TestComparisonsWrapAround(t *testing.T) {
	cases := []struct {
		v, w Value
		less bool
	}{
		{0, 1, true},
		{1, 0, false},
		{0xffff_ffff, 0, true}, // 2^32-1 comes just before 0
		{0, 0xffff_ffff, false},
		{0x7fff_ffff, 0x8000_0000, true},
		{0xffff_fff0, 0x0000_0010, true},
		{5, 5, false},
	}
	for _, c := range cases {
		if got := c.v.LessThan(c.w); got != c.less {
			t.Errorf("%#x < %#x = %v, want %v", c.v, c.w, got, c.less)
		}
		if got := c.w.GreaterThan(c.v); got != c.less {
			t.Errorf("%#x > %#x = %v, want %v", c.w, c.v, got, c.less)
		}
		if got := c.v.LessThanEq(c.w); got != (c.less || c.v == c.w) {
			t.Errorf("%#x <= %#x = %v", c.v, c.w, got)
		}
		if got := c.v.GreaterThanEq(c.w); got != !c.less {
			t.Errorf("%#x >= %#x = %v", c.v, c.w, got)
		}
	}
}

func TestWindowsAcrossZero(t *testing.T) {
	first := Value(0xffff_fff0)
	for _, c := range []struct {
		v  Value
		in bool
	}{
		{0xffff_ffef, false}, {0xffff_fff0, true}, {0xffff_ffff, true}, {0, true}, {0x1f, true}, {0x20, false},
	} {
		if got := c.v.InWindow(first, 0x30); got != c.in {
			t.Errorf("%#x in [%#x, +0x30) = %v, want %v", c.v, first, got, c.in)
		}
	}
	if Value(7).InWindow(7, 0) {
		t.Error("an empty window contains nothing")
	}
	if got := first.Size(0x10); got != 0x20 {
		t.Errorf("size across zero = %#x", got)
	}
	if got := first.Add(0x20); got != 0x10 {
		t.Errorf("add across zero = %#x", got)
	}
	if got := Value(0x10).Sub(0x20); got != first {
		t.Errorf("sub across zero = %#x", got)
	}
	if Max(first, 0x10) != 0x10 || Min(first, 0x10) != first {
		t.Error("Max/Min ignore wraparound")
	}
}
