package wire

import "testing"

func TestFlagsString(t *testing.T) {
	tests := []struct {
		f    Flags
		want string
	}{
		{0, "none"},
		{FlagSYN, "S"},
		{FlagSYN | FlagACK, "S."},
		{FlagACK, "."},
		{FlagPSH | FlagACK, "P."},
		{FlagFIN | FlagACK, "F."},
		{FlagFIN | FlagPSH | FlagACK, "FP."},
		{FlagRST, "R"},
		{FlagRST | FlagACK, "R."},
		{FlagURG | FlagACK, "U."},
		{FlagSYN | FlagECE | FlagCWR, "SEW"},
		{0xff, "SFRPUEW."},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint8(tt.f), got, tt.want)
		}
	}
}

func TestFlagsValues(t *testing.T) {
	// RFC 9293 §3.1 bit positions in byte 13; ECE/CWR from RFC 3168.
	want := []Flags{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}
	got := []Flags{FlagFIN, FlagSYN, FlagRST, FlagPSH, FlagACK, FlagURG, FlagECE, FlagCWR}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flag %d = %#x, want %#x", i, got[i], want[i])
		}
	}
}

func TestFlagsHas(t *testing.T) {
	f := FlagSYN | FlagACK
	tests := []struct {
		g    Flags
		want bool
	}{
		{FlagSYN, true},
		{FlagACK, true},
		{FlagSYN | FlagACK, true},
		{FlagSYN | FlagFIN, false},
		{FlagRST, false},
		{0, true},
	}
	for _, tt := range tests {
		if got := f.Has(tt.g); got != tt.want {
			t.Errorf("%v.Has(%v) = %v, want %v", f, tt.g, got, tt.want)
		}
	}
}

func TestErrorIsConstant(t *testing.T) {
	var err error = ErrOptionLength
	if err != ErrOptionLength || err.Error() != string(ErrOptionLength) {
		t.Fatal("Error is not comparable by value")
	}
	all := []Error{
		ErrTCPShort, ErrTCPDataOffset, ErrOptionLength, ErrOptionMalformed,
		ErrIPv4Short, ErrIPv4Version, ErrIPv4HeaderLen, ErrIPv4TotalLen, ErrIPv4Checksum,
		ErrIPv6Short, ErrIPv6Version, ErrIPv6PayloadLen,
	}
	seen := map[Error]bool{}
	for _, e := range all {
		if seen[e] {
			t.Errorf("duplicate error text %q", e)
		}
		seen[e] = true
	}
}
