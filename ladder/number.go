package ladder

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// numbering turns absolute sequence numbers and timestamps into the
// relative ones the diagram shows. It learns each half's ISN from its
// first SYN and its timestamp offset from its first TSval, so it works
// the same whether it sees all events first (a batch) or one at a time
// (a live ladder).
type numbering struct {
	isn    map[half]uint32 // sequence number of each half's first SYN
	tsBase map[half]uint32 // TSval - ms of each half's first timestamp
	order  []half          // halves in the order their SYN was seen
}

func newNumbering() *numbering {
	return &numbering{isn: map[half]uint32{}, tsBase: map[half]uint32{}}
}

// learn takes what e teaches: an ISN or a timestamp base.
func (n *numbering) learn(e *Event) {
	if e.Kind != Send {
		return
	}
	k := e.half()
	if e.Seg.Flags&wire.FlagSYN != 0 {
		if _, ok := n.isn[k]; !ok {
			n.isn[k] = e.Seg.Seq
			n.order = append(n.order, k)
		}
	}
	if e.Seg.Opts.HasTimestamps {
		if _, ok := n.tsBase[k]; !ok {
			n.tsBase[k] = e.Seg.Opts.TSVal - uint32(e.At/time.Millisecond)
		}
	}
}

// seq returns v relative to the ISN of half k, or absolute if unknown.
func (n *numbering) seq(k half, v uint32) uint32 {
	if isn, ok := n.isn[k]; ok {
		return v - isn
	}
	return v
}

func (n *numbering) ts(k half, v uint32) uint32 {
	if base, ok := n.tsBase[k]; ok && v != 0 {
		return v - base
	}
	return v
}

// label is the arrow's text, tcpdump style, as fields that stay whole
// when the text must be split: flags, seq, ack, win, len.
func (n *numbering) label(k half, s *Seg) []string {
	f := []string{s.Flags.String()}
	seq := n.seq(k, s.Seq)
	if s.Len > 0 {
		f = append(f, fmt.Sprintf("seq %d:%d", seq, seq+uint32(s.Len)))
	} else {
		f = append(f, fmt.Sprintf("seq %d", seq))
	}
	if s.Flags&wire.FlagACK != 0 {
		f = append(f, fmt.Sprintf("ack %d", n.seq(k.peer(), s.Ack)))
	}
	return append(f, fmt.Sprintf("win %d", s.Window), fmt.Sprintf("len %d", s.Len))
}

// options formats the options tcpdump style, in the order and with the
// padding they have on the wire, e.g. <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>.
// Timestamps and SACK blocks are made relative like the sequence numbers.
// A segment from a capture is drawn from its raw option bytes; one from a
// stack from its parsed options, encoded the way threeway sends them.
func (n *numbering) options(k half, s *Seg) string {
	b := s.RawOpts
	if b == nil {
		var buf [wire.MaxOptionsLen]byte
		o := s.Opts
		b = buf[:o.Encode(buf[:])]
	}
	rel := func(v uint32) uint32 { return n.seq(k.peer(), v) }
	parts := formatOptions(b, rel, func(val, ecr uint32) (uint32, uint32) {
		return n.ts(k, val), n.ts(k.peer(), ecr)
	})
	if len(parts) == 0 {
		return ""
	}
	return "<" + strings.Join(parts, ",") + ">"
}

// formatOptions walks the options area b and names each option, passing
// SACK edges through sack and timestamps through ts.
func formatOptions(b []byte, sack func(uint32) uint32, ts func(val, ecr uint32) (uint32, uint32)) []string {
	var parts []string
	for i := 0; i < len(b); {
		kind := b[i]
		if kind == 0 {
			parts = append(parts, "eol")
			break
		}
		if kind == 1 {
			parts = append(parts, "nop")
			i++
			continue
		}
		if i+1 >= len(b) || int(b[i+1]) < 2 || i+int(b[i+1]) > len(b) {
			parts = append(parts, "bad")
			break
		}
		body := b[i+2 : i+int(b[i+1])]
		be := binary.BigEndian
		switch {
		case kind == 2 && len(body) == 2:
			parts = append(parts, fmt.Sprintf("mss %d", be.Uint16(body)))
		case kind == 3 && len(body) == 1:
			parts = append(parts, fmt.Sprintf("wscale %d", body[0]))
		case kind == 4 && len(body) == 0:
			parts = append(parts, "sackOK")
		case kind == 5 && len(body)%8 == 0:
			var sb strings.Builder
			fmt.Fprintf(&sb, "sack %d ", len(body)/8)
			for j := 0; j < len(body); j += 8 {
				fmt.Fprintf(&sb, "{%d:%d}", sack(be.Uint32(body[j:])), sack(be.Uint32(body[j+4:])))
			}
			parts = append(parts, sb.String())
		case kind == 8 && len(body) == 8:
			val, ecr := ts(be.Uint32(body[:4]), be.Uint32(body[4:]))
			parts = append(parts, fmt.Sprintf("TS val %d ecr %d", val, ecr))
		case kind == 30:
			parts = append(parts, "mptcp")
		case kind == 34:
			parts = append(parts, fastOpenOption("tfo", body))
		case kind == 254 && len(body) >= 2 && be.Uint16(body) == 0xf989:
			// RFC 6994's experimental form of Fast Open (RFC 7413).
			parts = append(parts, fastOpenOption("tfo-exp", body[2:]))
		default:
			parts = append(parts, fmt.Sprintf("opt-%d", kind))
		}
		i += int(b[i+1])
	}
	return parts
}

// fastOpenOption names a Fast Open option as tcpdump does: a cookie
// request (RFC 7413 §4.1.1, no cookie) or the cookie in hex.
func fastOpenOption(name string, cookie []byte) string {
	if len(cookie) == 0 {
		return name + " cookiereq"
	}
	return fmt.Sprintf("%s cookie %x", name, cookie)
}
