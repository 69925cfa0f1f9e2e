package wire

import "encoding/binary"

// MaxOptionsLen is the largest TCP options area: a data offset of 15 words
// less the 20-byte fixed header (RFC 9293 §3.1).
const MaxOptionsLen = 40

// Option kinds (RFC 9293 §3.2, RFC 7323 §2.2 and §3.2, RFC 2018 §2 and §3).
const (
	optEOL    = 0
	optNOP    = 1
	optMSS    = 2
	optWScale = 3
	optSACKOK = 4
	optSACK   = 5
	optTS     = 8
	optFO     = 34  // RFC 7413 §4.1.1
	optExp    = 254 // RFC 6994 experimental option, carrying Fast Open with fastOpenMagic
)

// fastOpenMagic is the experiment identifier of Fast Open's pre-RFC
// encoding in option 254 (RFC 6994 §3; packetdrill's FOEXP).
const fastOpenMagic = 0xF989

// Fast Open cookie sizes (RFC 7413 §4.1.1, as corrected by erratum 4238):
// 0 (a cookie request) or an even length from 4 to 16 bytes.
const (
	MinFastOpenCookie = 4
	MaxFastOpenCookie = 16
)

// Option lengths including the kind and length bytes.
const (
	lenMSS    = 4
	lenWScale = 3
	lenSACKOK = 2
	lenTS     = 10
	maxSACK   = 4 // at most four blocks fit in 40 bytes (RFC 2018 §3)
)

// SACKBlock is one SACK block: the left edge Start and the right edge End,
// the sequence number just past the block (RFC 2018 §3).
type SACKBlock struct{ Start, End uint32 }

// Options holds the TCP options threeway understands. Unknown options are
// skipped on parse and never encoded.
type Options struct {
	HasMSS bool
	MSS    uint16 // RFC 9293 §3.7.1

	HasWScale bool
	WScale    uint8 // raw shift count as received; capping it at 14 is the caller's job (RFC 7323 §2.3)

	SACKPermitted bool // RFC 2018 §2

	HasTimestamps bool // RFC 7323 §3.2
	TSVal, TSEcr  uint32

	NumSACK int // number of valid entries in SACK
	SACK    [maxSACK]SACKBlock

	// HasFastOpen is a Fast Open option (RFC 7413 §4.1.1): with
	// FastOpenLen 0 a cookie request, else a cookie of FastOpenLen bytes.
	// FastOpenExp selects the experimental encoding (kind 254 with magic
	// 0xF989) over kind 34.
	HasFastOpen    bool
	FastOpenExp    bool
	FastOpenLen    uint8
	FastOpenCookie [MaxFastOpenCookie]byte
	// FastOpenBad marks a Fast Open option whose cookie length is not
	// allowed; RFC 7413 §4.1.1 says such an option MUST be ignored, so
	// HasFastOpen stays false, but the receiver can count it.
	FastOpenBad bool
}

// FastOpenCookieBytes returns the cookie of a Fast Open option, empty
// for a cookie request. It aliases o.
func (o *Options) FastOpenCookieBytes() []byte { return o.FastOpenCookie[:o.FastOpenLen] }

// SetFastOpen puts a Fast Open option carrying cookie (a cookie request
// when empty) in o, in the experimental encoding if exp. A cookie of a
// length RFC 7413 does not allow is reported false and not set.
func (o *Options) SetFastOpen(cookie []byte, exp bool) bool {
	if !validFastOpenLen(len(cookie)) {
		return false
	}
	o.HasFastOpen, o.FastOpenExp = true, exp
	o.FastOpenLen = uint8(copy(o.FastOpenCookie[:], cookie))
	return true
}

func validFastOpenLen(n int) bool {
	return n == 0 || n >= MinFastOpenCookie && n <= MaxFastOpenCookie && n%2 == 0
}

// ParseOptions parses the TCP options area b into o, resetting o first
// (RFC 9293 §3.2). End-of-list stops parsing; no-operation is skipped;
// unknown kinds are skipped by their length byte. A length byte below 2
// or one that runs past b is ErrOptionLength; a known kind with the wrong
// length is ErrOptionMalformed. A later copy of an option replaces an
// earlier one. It does not allocate.
func ParseOptions(b []byte, o *Options) error {
	*o = Options{}
	for i := 0; i < len(b); {
		kind := b[i]
		switch kind {
		case optEOL:
			return nil
		case optNOP:
			i++
			continue
		}
		if i+1 >= len(b) {
			return ErrOptionLength
		}
		n := int(b[i+1])
		if n < 2 || n > len(b)-i {
			return ErrOptionLength
		}
		if err := parseOption(kind, b[i+2:i+n], o); err != nil {
			return err
		}
		i += n
	}
	return nil
}

// parseOption decodes the body (after kind and length) of one option.
func parseOption(kind byte, body []byte, o *Options) error {
	n := len(body) + 2
	switch kind {
	case optMSS:
		if n != lenMSS {
			return ErrOptionMalformed
		}
		o.HasMSS = true
		o.MSS = binary.BigEndian.Uint16(body)
	case optWScale:
		if n != lenWScale {
			return ErrOptionMalformed
		}
		o.HasWScale = true
		o.WScale = body[0]
	case optSACKOK:
		if n != lenSACKOK {
			return ErrOptionMalformed
		}
		o.SACKPermitted = true
	case optTS:
		if n != lenTS {
			return ErrOptionMalformed
		}
		o.HasTimestamps = true
		o.TSVal = binary.BigEndian.Uint32(body[0:4])
		o.TSEcr = binary.BigEndian.Uint32(body[4:8])
	case optFO:
		parseFastOpen(body, false, o)
	case optExp:
		// RFC 6994 §3: a 16-bit experiment identifier, then the data;
		// other experiments are skipped like unknown options.
		if len(body) >= 2 && binary.BigEndian.Uint16(body) == fastOpenMagic {
			parseFastOpen(body[2:], true, o)
		}
	case optSACK:
		// RFC 2018 §3: length 2+8n with n blocks; n is 1 to 4.
		k := len(body) / 8
		if len(body)%8 != 0 || k == 0 || k > maxSACK {
			return ErrOptionMalformed
		}
		o.NumSACK = k
		o.SACK = [maxSACK]SACKBlock{} // drop blocks of an earlier copy
		for j := 0; j < k; j++ {
			o.SACK[j] = SACKBlock{
				Start: binary.BigEndian.Uint32(body[8*j:]),
				End:   binary.BigEndian.Uint32(body[8*j+4:]),
			}
		}
	}
	return nil
}

// parseFastOpen records a Fast Open option's cookie. An option of a length
// RFC 7413 §4.1.1 does not allow is ignored (it MUST be) and marked bad,
// so the segment itself is still processed.
func parseFastOpen(cookie []byte, exp bool, o *Options) {
	if !validFastOpenLen(len(cookie)) {
		o.HasFastOpen, o.FastOpenLen, o.FastOpenBad = false, 0, true
		return
	}
	o.HasFastOpen, o.FastOpenExp, o.FastOpenBad = true, exp, false
	o.FastOpenLen = uint8(copy(o.FastOpenCookie[:], cookie))
}
