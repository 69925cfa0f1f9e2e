package conform

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/threeway-tcp/threeway/wire"
)

// tcpPacket is a decoded TCP/IP packet, as seen on the wire.
type tcpPacket struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            wire.Flags
	Window           uint16
	Options          []Option // in order, NOPs and EOL included
	Payload          int      // payload length
	// TOS is the IPv4 TOS or IPv6 traffic class; TTL the TTL or hop
	// limit (0 means 64 when encoding).
	TOS, TTL  uint8
	FlowLabel uint32
}

var errNotTCP = errors.New("not a TCP packet")

// decodePacket parses an IPv4 or IPv6 packet carrying TCP.
func decodePacket(b []byte) (*tcpPacket, error) {
	var p tcpPacket
	ip, err := wire.ParseIPPacket(b)
	if err == wire.ErrIPVersion {
		return nil, errNotTCP
	}
	if err != nil {
		return nil, err
	}
	if ip.Protocol() != wire.ProtoTCP {
		return nil, errNotTCP
	}
	p.Src, p.Dst = ip.Src(), ip.Dst()
	p.TOS, p.TTL, p.FlowLabel = ip.TrafficClass(), ip.HopLimit(), ip.FlowLabel()
	h, err := wire.ParseTCP(ip.Payload())
	if err != nil {
		return nil, err
	}
	p.SrcPort, p.DstPort = h.SrcPort(), h.DstPort()
	p.Seq, p.Ack = h.Seq(), h.Ack()
	p.Flags, p.Window = h.Flags(), h.Window()
	p.Payload = len(h.Payload())
	if p.Options, err = parseRawOptions(h.OptionBytes()); err != nil {
		return nil, err
	}
	return &p, nil
}

// parseRawOptions lists the options in b in order (RFC 9293 §3.2).
func parseRawOptions(b []byte) ([]Option, error) {
	var out []Option
	for i := 0; i < len(b); {
		kind := b[i]
		switch kind {
		case 0:
			out = append(out, Option{Kind: OptEOL})
			return out, nil
		case 1:
			out = append(out, Option{Kind: OptNOP})
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] < 2 || int(b[i+1]) > len(b)-i {
			return nil, fmt.Errorf("bad length for TCP option %d", kind)
		}
		n := int(b[i+1])
		body := b[i+2 : i+n]
		o := Option{Kind: OptionKind(kind)}
		bad := func() ([]Option, error) { return nil, fmt.Errorf("bad TCP option %d of length %d", kind, n) }
		switch OptionKind(kind) {
		case OptMSS:
			if n != 4 {
				return bad()
			}
			o.Val = uint32(binary.BigEndian.Uint16(body))
		case OptWScale:
			if n != 3 {
				return bad()
			}
			o.Val = uint32(body[0])
		case OptSACKOK:
			if n != 2 {
				return bad()
			}
		case OptTS:
			if n != 10 {
				return bad()
			}
			o.Val = binary.BigEndian.Uint32(body)
			o.Ecr = binary.BigEndian.Uint32(body[4:])
		case OptSACK:
			if len(body)%8 != 0 || len(body) == 0 {
				return bad()
			}
			for j := 0; j < len(body); j += 8 {
				o.Blocks = append(o.Blocks, [2]uint32{binary.BigEndian.Uint32(body[j:]), binary.BigEndian.Uint32(body[j+4:])})
			}
		case OptFastOpen:
			o.Cookie = append([]byte(nil), body...)
		case OptMD5:
			if n != 18 {
				return bad()
			}
			o.Cookie = append([]byte(nil), body...)
		case OptFastOpenExp:
			// RFC 6994: the experimental option carries a 16-bit ExID;
			// Fast Open's is 0xF989.
			if len(body) < 2 || binary.BigEndian.Uint16(body) != fastOpenMagic {
				o = Option{Kind: OptOther, Val: uint32(kind)}
				break
			}
			o.Cookie = append([]byte(nil), body[2:]...)
		default:
			o = Option{Kind: OptOther, Val: uint32(kind)}
		}
		out = append(out, o)
		i += n
	}
	return out, nil
}

// fastOpenMagic is the ExID of Fast Open's experimental option (RFC 7413
// §4.1.1, RFC 6994).
const fastOpenMagic = 0xF989

// encodeOptions writes opts in order, padded with EOL to a multiple of 4.
func encodeOptions(opts []Option) ([]byte, error) {
	var b []byte
	for _, o := range opts {
		switch o.Kind {
		case OptNOP, OptEOL:
			b = append(b, byte(o.Kind))
		case OptMSS:
			b = append(b, 2, 4, byte(o.Val>>8), byte(o.Val))
		case OptWScale:
			b = append(b, 3, 3, byte(o.Val))
		case OptSACKOK:
			b = append(b, 4, 2)
		case OptTS:
			b = append(b, 8, 10)
			b = binary.BigEndian.AppendUint32(b, o.Val)
			b = binary.BigEndian.AppendUint32(b, o.Ecr)
		case OptSACK:
			b = append(b, 5, byte(2+8*len(o.Blocks)))
			for _, blk := range o.Blocks {
				b = binary.BigEndian.AppendUint32(b, blk[0])
				b = binary.BigEndian.AppendUint32(b, blk[1])
			}
		case OptFastOpen:
			b = append(b, 34, byte(2+len(o.Cookie)))
			b = append(b, o.Cookie...)
		case OptFastOpenExp:
			b = append(b, 254, byte(4+len(o.Cookie)), fastOpenMagic>>8, fastOpenMagic&0xff)
			b = append(b, o.Cookie...)
		case OptMD5:
			// A digest the script does not give is sent as zeros.
			d := make([]byte, 16)
			copy(d, o.Cookie)
			b = append(b, 19, 18)
			b = append(b, d...)
		default:
			return nil, fmt.Errorf("cannot encode option kind %d", o.Kind)
		}
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	if len(b) > wire.MaxOptionsLen {
		return nil, fmt.Errorf("TCP options take %d bytes; at most 40 fit", len(b))
	}
	return b, nil
}

// encodePacket builds an IP packet carrying a TCP segment with raw
// options and a zero-filled payload of n bytes.
func encodePacket(p *tcpPacket) ([]byte, error) {
	opts, err := encodeOptions(p.Options)
	if err != nil {
		return nil, err
	}
	tcpLen := wire.TCPHeaderLen + len(opts) + p.Payload
	ipLen := wire.IPv4HeaderLen
	if !p.Src.Is4() {
		ipLen = wire.IPv6HeaderLen
	}
	buf := make([]byte, ipLen+tcpLen)
	t := buf[ipLen:]
	binary.BigEndian.PutUint16(t[0:], p.SrcPort)
	binary.BigEndian.PutUint16(t[2:], p.DstPort)
	binary.BigEndian.PutUint32(t[4:], p.Seq)
	binary.BigEndian.PutUint32(t[8:], p.Ack)
	t[12] = byte((wire.TCPHeaderLen+len(opts))/4) << 4
	t[13] = byte(p.Flags)
	binary.BigEndian.PutUint16(t[14:], p.Window)
	copy(t[wire.TCPHeaderLen:], opts)
	wire.TCP(t).SetChecksum(wire.TCPChecksum(p.Src, p.Dst, t))
	if err := encodeIP(buf, p, wire.ProtoTCP, tcpLen); err != nil {
		return nil, err
	}
	return buf, nil
}

// encodeIP writes the IP header of p at the front of buf.
func encodeIP(buf []byte, p *tcpPacket, proto uint8, payloadLen int) error {
	ttl := p.TTL
	if ttl == 0 {
		ttl = 64
	}
	if p.Src.Is4() {
		if wire.EncodeIPv4(buf, &wire.IPv4Fields{Src: p.Src, Dst: p.Dst, Protocol: proto, TTL: ttl, TOS: p.TOS, PayloadLen: payloadLen}) == 0 {
			return errors.New("cannot encode IPv4 header")
		}
		return nil
	}
	if wire.EncodeIPv6(buf, &wire.IPv6Fields{Src: p.Src, Dst: p.Dst, NextHeader: proto, HopLimit: ttl,
		TrafficClass: p.TOS, FlowLabel: p.FlowLabel, PayloadLen: payloadLen}) == 0 {
		return errors.New("cannot encode IPv6 header")
	}
	return nil
}

// icmpTypeCode maps an ICMP line's type and code names to numbers, for
// ICMPv4 or (v6) ICMPv6, as packetdrill names them.
func icmpTypeCode(ic *ICMPSpec, v6 bool) ([2]uint8, error) {
	type tc = [2]uint8
	var types map[string]uint8
	var codes map[string]map[string]uint8
	if v6 {
		types = map[string]uint8{"unreachable": 1, "packet_too_big": 2, "time_exceeded": 3, "parameter_problem": 4}
		codes = map[string]map[string]uint8{"unreachable": {"no_route": 0, "admin_prohibited": 1, "beyond_scope": 2,
			"address_unreachable": 3, "port_unreachable": 4}, "time_exceeded": {"hop_limit_exceeded": 0, "reassembly_timeout": 1}}
	} else {
		types = map[string]uint8{"unreachable": 3, "source_quench": 4, "time_exceeded": 11, "parameter_problem": 12}
		codes = map[string]map[string]uint8{"unreachable": {"net_unreachable": 0, "host_unreachable": 1,
			"protocol_unreachable": 2, "port_unreachable": 3, "frag_needed": 4, "source_route_failed": 5,
			"net_unknown": 6, "host_unknown": 7, "source_host_isolated": 8, "net_prohibited": 9,
			"host_prohibited": 10, "net_unreachable_for_tos": 11, "host_unreachable_for_tos": 12,
			"packet_filtered": 13, "precedence_violation": 14, "precedence_cutoff": 15},
			"time_exceeded": {"ttl_exceeded": 0, "fragment_reassembly_time_exceeded": 1}}
	}
	t, ok := types[ic.Type]
	if !ok {
		return tc{}, fmt.Errorf("unknown ICMP type %q", ic.Type)
	}
	if ic.Code == "" {
		return tc{t, 0}, nil
	}
	c, ok := codes[ic.Type][ic.Code]
	if !ok {
		return tc{}, fmt.Errorf("unknown ICMP code %q for %s (a -D definition?)", ic.Code, ic.Type)
	}
	return tc{t, c}, nil
}

// encodeICMP builds an ICMP error from the script side about the stack's
// segment orig (RFC 792, RFC 4443): the quoted IP header and the first
// eight bytes of the TCP header, or ICMPv6's first 48 TCP bytes.
func encodeICMP(ic *ICMPSpec, src netip.Addr, orig *tcpPacket) ([]byte, error) {
	v6 := !src.Is4()
	typ, err := icmpTypeCode(ic, v6)
	if err != nil {
		return nil, err
	}
	quoted, err := encodePacket(orig)
	if err != nil {
		return nil, err
	}
	ipLen := wire.IPv4HeaderLen
	if v6 {
		ipLen = wire.IPv6HeaderLen
	}
	keep := ipLen + 8
	if v6 {
		keep = min(len(quoted), ipLen+wire.TCPHeaderLen)
	}
	body := quoted[:keep]
	var rest uint32
	if ic.MTU > 0 {
		rest = uint32(ic.MTU) // RFC 1191 §4 (low 16 bits) and RFC 4443 §3.2 (32 bits)
	}
	buf := make([]byte, ipLen+wire.ICMPHeaderLen+len(body))
	pseudo := uint32(0)
	proto := uint8(wire.ProtoICMP)
	if v6 {
		proto = wire.ProtoICMPv6
		pseudo = wire.PseudoHeaderSum(src, orig.Src, wire.ProtoICMPv6, wire.ICMPHeaderLen+len(body))
	}
	if wire.EncodeICMP(buf[ipLen:], typ[0], typ[1], rest, body, pseudo) == 0 {
		return nil, errors.New("cannot encode ICMP message")
	}
	outer := &tcpPacket{Src: src, Dst: orig.Src}
	if err := encodeIP(buf, outer, proto, wire.ICMPHeaderLen+len(body)); err != nil {
		return nil, err
	}
	return buf, nil
}

// flagString writes flags as packetdrill does: S, S., ., P., F., R, R.,
// and - for none.
func flagString(f wire.Flags) string {
	if f == 0 {
		return "-"
	}
	var b strings.Builder
	for _, l := range []struct {
		f wire.Flags
		c byte
	}{{wire.FlagSYN, 'S'}, {wire.FlagFIN, 'F'}, {wire.FlagRST, 'R'}, {wire.FlagPSH, 'P'},
		{wire.FlagURG, 'U'}, {wire.FlagECE, 'E'}, {wire.FlagCWR, 'W'}, {wire.FlagACK, '.'}} {
		if f&l.f != 0 {
			b.WriteByte(l.c)
		}
	}
	return b.String()
}

// optionString writes one option in the script's syntax.
func optionString(o Option) string {
	switch o.Kind {
	case OptNOP:
		return "nop"
	case OptEOL:
		return "eol"
	case OptMSS:
		return fmt.Sprintf("mss %d", o.Val)
	case OptWScale:
		return fmt.Sprintf("wscale %d", o.Val)
	case OptSACKOK:
		return "sackOK"
	case OptTS:
		return fmt.Sprintf("TS val %d ecr %d", o.Val, o.Ecr)
	case OptSACK:
		parts := make([]string, len(o.Blocks))
		for i, b := range o.Blocks {
			parts[i] = fmt.Sprintf("%d:%d", b[0], b[1])
		}
		return "sack " + strings.Join(parts, " ")
	case OptFastOpen, OptFastOpenExp, OptMD5:
		name := map[OptionKind]string{OptFastOpen: "FO", OptFastOpenExp: "FOEXP", OptMD5: "md5"}[o.Kind]
		if len(o.Cookie) > 0 {
			return name + " " + hex.EncodeToString(o.Cookie)
		}
		return name
	}
	return fmt.Sprintf("opt%d", o.Val)
}

func optionsString(opts []Option) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = optionString(o)
	}
	return "<" + strings.Join(parts, ",") + ">"
}

// specString writes a packet line as the script would.
func specString(ps *PacketSpec) string {
	var b strings.Builder
	b.WriteString(ps.Dir.String())
	if ps.Conn > 1 {
		fmt.Fprintf(&b, " [conn %d]", ps.Conn)
	}
	fmt.Fprintf(&b, " %s %d:%d(%d)", flagString(ps.Flags), ps.Start, ps.End, ps.Len)
	if ps.HasAck {
		fmt.Fprintf(&b, " ack %d", ps.Ack)
	}
	if ps.HasWin {
		fmt.Fprintf(&b, " win %d", ps.Win)
	}
	switch {
	case ps.AnyOptions:
		b.WriteString(" <...>")
	case ps.HasOptions:
		b.WriteString(" " + optionsString(ps.Options))
	}
	return b.String()
}

// gotString writes a packet the stack sent in the script's syntax, with
// sequence numbers relative to the connection (as tcpdump does).
func gotString(p *tcpPacket, m *seqMap) string {
	var b strings.Builder
	seq := m.relSeq(p.Seq)
	fmt.Fprintf(&b, "> %s %d:%d(%d)", flagString(p.Flags), seq, seq+uint32(p.Payload), p.Payload)
	if p.Flags&wire.FlagACK != 0 {
		if p.Flags&wire.FlagSYN != 0 {
			fmt.Fprintf(&b, " ack %d", p.Ack)
		} else {
			fmt.Fprintf(&b, " ack %d", m.relAck(p.Ack))
		}
	}
	fmt.Fprintf(&b, " win %d", p.Window)
	if len(p.Options) > 0 {
		rel := make([]Option, len(p.Options))
		for i, o := range p.Options {
			rel[i] = o
			if o.Kind == OptSACK {
				rel[i].Blocks = make([][2]uint32, len(o.Blocks))
				for j, blk := range o.Blocks {
					rel[i].Blocks[j] = [2]uint32{m.relAck(blk[0]), m.relAck(blk[1])}
				}
			}
		}
		b.WriteString(" " + optionsString(rel))
	}
	return b.String()
}

// matchOutbound compares what the stack sent with the script's line and
// returns the differences, one phrase each; none means a match. It learns
// the stack's ISN (from a SYN) and its TS val as it goes.
func matchOutbound(ps *PacketSpec, p *tcpPacket, m *seqMap, strict, ignorePSH bool) []string {
	var diffs []string
	mask := ^wire.Flags(0)
	if ignorePSH {
		mask &^= wire.FlagPSH
	}
	if p.Flags&mask != ps.Flags&mask {
		diffs = append(diffs, fmt.Sprintf("flags %s, not %s", flagString(p.Flags), flagString(ps.Flags)))
	}
	syn := ps.Flags&wire.FlagSYN != 0 && p.Flags&wire.FlagSYN != 0
	if want := m.expectSeq(ps.Start, syn, p.Seq); p.Seq != want {
		diffs = append(diffs, fmt.Sprintf("seq %d, not %d", m.relSeq(p.Seq), ps.Start))
	}
	if p.Payload != ps.Len {
		diffs = append(diffs, fmt.Sprintf("%d bytes of data, not %d", p.Payload, ps.Len))
	}
	// A SYN-ACK's ack is absolute, as packetdrill keeps the script
	// side's SYN sequence number as written.
	if ps.HasAck && p.Flags&wire.FlagACK != 0 {
		want, got := m.outboundAck(ps.Ack), m.relAck(p.Ack)
		if syn {
			want, got = ps.Ack, p.Ack
		}
		if p.Ack != want {
			diffs = append(diffs, fmt.Sprintf("ack %d, not %d", got, ps.Ack))
		}
	}
	if ps.IP.HasECN && p.TOS&3 != ps.IP.ECN {
		diffs = append(diffs, fmt.Sprintf("ECN codepoint %d, not %d", p.TOS&3, ps.IP.ECN))
	}
	if ps.IP.HasTOS && p.TOS != ps.IP.TOS {
		diffs = append(diffs, fmt.Sprintf("tos 0x%x, not 0x%x", p.TOS, ps.IP.TOS))
	}
	if ps.IP.HasTTL && p.TTL != ps.IP.TTL {
		diffs = append(diffs, fmt.Sprintf("ttl %d, not %d", p.TTL, ps.IP.TTL))
	}
	if ps.HasWin && p.Window != ps.Win {
		diffs = append(diffs, fmt.Sprintf("win %d, not %d", p.Window, ps.Win))
	}
	if !ps.AnyOptions {
		if d := compareOptions(ps.Options, p.Options, m, strict); d != "" {
			diffs = append(diffs, d)
		}
	}
	if len(diffs) == 0 {
		for _, g := range p.Options {
			if g.Kind == OptTS {
				m.sawAnyTSVal(g.Val)
			}
		}
		for i, o := range ps.Options {
			if o.Kind != OptTS {
				continue
			}
			for _, g := range p.Options {
				if g.Kind == OptTS {
					m.sawTSVal(ps.Options[i].Val, g.Val)
				}
			}
		}
	}
	return diffs
}

// optionKey renders an option for comparison: TS val is not compared
// (the stack's clock is its own); SACK edges are mapped to the wire.
func optionKey(o Option, m *seqMap, expected bool) string {
	switch o.Kind {
	case OptTS:
		return fmt.Sprintf("TS ecr %d", o.Ecr)
	case OptSACK:
		parts := make([]string, len(o.Blocks))
		for i, b := range o.Blocks {
			if expected {
				parts[i] = fmt.Sprintf("%d:%d", m.outboundAck(b[0]), m.outboundAck(b[1]))
			} else {
				parts[i] = fmt.Sprintf("%d:%d", b[0], b[1])
			}
		}
		return "sack " + strings.Join(parts, " ")
	}
	return optionString(o)
}

// compareOptions compares expected and actual options: as a set without
// NOPs and EOLs by default, in exact order when strict.
func compareOptions(want, got []Option, m *seqMap, strict bool) string {
	keys := func(opts []Option, expected bool) []string {
		var k []string
		for _, o := range opts {
			if !strict && (o.Kind == OptNOP || o.Kind == OptEOL) {
				continue
			}
			k = append(k, optionKey(o, m, expected))
		}
		if !strict {
			sort.Strings(k)
		}
		return k
	}
	w, g := keys(want, true), keys(got, false)
	if strings.Join(w, ",") == strings.Join(g, ",") {
		return ""
	}
	if strict {
		return fmt.Sprintf("options %s, not %s (in order)", optionsString(got), optionsString(want))
	}
	return fmt.Sprintf("options %s, not %s", optionsString(got), optionsString(want))
}
