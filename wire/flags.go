package wire

// Flags holds the eight TCP control bits of header byte 13
// (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1).
type Flags uint8

// Control bits, least significant first.
const (
	FlagFIN Flags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// flagLetters is the tcpdump print order; ACK is printed last as '.'.
var flagLetters = [...]struct {
	f Flags
	c byte
}{
	{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'},
	{FlagURG, 'U'}, {FlagECE, 'E'}, {FlagCWR, 'W'}, {FlagACK, '.'},
}

// String formats f as tcpdump does: "S", "S.", ".", "P.", "F.", "R.",
// and "none" when no bit is set.
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var buf [len(flagLetters)]byte
	n := 0
	for _, l := range flagLetters {
		if f&l.f != 0 {
			buf[n] = l.c
			n++
		}
	}
	return string(buf[:n])
}
