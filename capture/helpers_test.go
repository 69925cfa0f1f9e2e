package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

var (
	cli4 = netip.MustParseAddrPort("192.0.2.1:40000")
	srv4 = netip.MustParseAddrPort("192.0.2.2:80")
	cli6 = netip.MustParseAddrPort("[2001:db8::1]:40000")
	srv6 = netip.MustParseAddrPort("[2001:db8::2]:80")
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

// ipTCP builds an IP packet holding one TCP segment, with wire's encoders.
func ipTCP(t testing.TB, src, dst netip.AddrPort, f wire.TCPFields, o *wire.Options, payload []byte) []byte {
	t.Helper()
	f.SrcPort, f.DstPort = src.Port(), dst.Port()
	n := wire.TCPSegmentLen(o, len(payload))
	seg := make([]byte, n)
	if wire.EncodeTCP(seg, &f, o, payload) != n {
		t.Fatal("EncodeTCP failed")
	}
	wire.TCP(seg).SetChecksum(wire.TCPChecksum(src.Addr(), dst.Addr(), seg))
	if src.Addr().Is4() {
		b := make([]byte, wire.IPv4HeaderLen+n)
		wire.EncodeIPv4(b, &wire.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: n})
		copy(b[wire.IPv4HeaderLen:], seg)
		return b
	}
	b := make([]byte, wire.IPv6HeaderLen+n)
	wire.EncodeIPv6(b, &wire.IPv6Fields{Src: src.Addr(), Dst: dst.Addr(), NextHeader: wire.ProtoTCP, HopLimit: 64, PayloadLen: n})
	copy(b[wire.IPv6HeaderLen:], seg)
	return b
}

// synPacket is a client SYN with the options Linux sends.
func synPacket(t testing.TB, src, dst netip.AddrPort) []byte {
	o := &wire.Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 1, HasWScale: true, WScale: 7}
	return ipTCP(t, src, dst, wire.TCPFields{Seq: 1000, Flags: wire.FlagSYN, Window: 64240}, o, nil)
}

func dataPacket(t testing.TB, src, dst netip.AddrPort, payload string) []byte {
	return ipTCP(t, src, dst, wire.TCPFields{Seq: 1001, Ack: 5001, Flags: wire.FlagACK | wire.FlagPSH, Window: 502}, nil, []byte(payload))
}

// Link-layer framing, written by the test.
func ethernet(ip []byte, vlans ...uint16) []byte {
	var b bytes.Buffer
	b.Write([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	for _, v := range vlans {
		binary.Write(&b, binary.BigEndian, uint16(0x8100))
		binary.Write(&b, binary.BigEndian, v)
	}
	binary.Write(&b, binary.BigEndian, etherTypeOf(ip))
	b.Write(ip)
	for b.Len() < 60 { // minimum frame: the trailer is padding
		b.WriteByte(0)
	}
	return b.Bytes()
}

func etherTypeOf(ip []byte) uint16 {
	if wire.IPVersion(ip) == 6 {
		return 0x86dd
	}
	return 0x0800
}

func sll(ip []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 4) // sent by us
	b = binary.BigEndian.AppendUint16(b, 1)    // ARPHRD_ETHER
	b = binary.BigEndian.AppendUint16(b, 6)    // address length
	b = append(b, 2, 0, 0, 0, 0, 1, 0, 0)      // address, padded to 8
	b = binary.BigEndian.AppendUint16(b, etherTypeOf(ip))
	return append(b, ip...)
}

func sll2(ip []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, etherTypeOf(ip))
	b = binary.BigEndian.AppendUint16(b, 0) // reserved
	b = binary.BigEndian.AppendUint32(b, 3) // interface index
	b = binary.BigEndian.AppendUint16(b, 1) // ARPHRD_ETHER
	b = append(b, 0, 6)                     // packet type, address length
	b = append(b, 2, 0, 0, 0, 0, 1, 0, 0)   // address
	return append(b, ip...)
}

// pcapOf writes packets with threeway's own writer (raw IP, little-endian,
// microseconds).
func pcapOf(t testing.TB, snaplen int, pkts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := link.NewPcapWriter(&buf, snaplen)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), p); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// classicPcap writes a classic pcap in byte order o, with nanosecond
// timestamps if nano, of frames of link type lt.
func classicPcap(o binary.AppendByteOrder, nano bool, lt LinkType, frames ...[]byte) []byte {
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 262144)
	b = o.AppendUint32(b, uint32(lt))
	for i, f := range frames {
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		frac := uint32(ts.Nanosecond() / 1000)
		if nano {
			frac = uint32(ts.Nanosecond())
		}
		b = o.AppendUint32(b, uint32(ts.Unix()))
		b = o.AppendUint32(b, frac)
		b = o.AppendUint32(b, uint32(len(f)))
		b = o.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// ngWriter is the test's own pcapng encoder.
type ngWriter struct {
	o binary.AppendByteOrder
	b []byte
}

func (w *ngWriter) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w.b = w.o.AppendUint32(w.b, typ)
	w.b = w.o.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.o.AppendUint32(w.b, n)
}

func (w *ngWriter) section() {
	body := w.o.AppendUint32(nil, ngByteOrder)
	body = w.o.AppendUint16(body, 1)
	body = w.o.AppendUint16(body, 0)
	body = w.o.AppendUint64(body, ^uint64(0)) // section length unknown
	w.block(ngSHBType, body)
}

// iface adds an interface; tsresol 0 leaves the default (microseconds).
func (w *ngWriter) iface(lt LinkType, tsresol byte) {
	body := w.o.AppendUint16(nil, uint16(lt))
	body = w.o.AppendUint16(body, 0)
	body = w.o.AppendUint32(body, 262144)
	if tsresol != 0 {
		body = w.o.AppendUint16(body, ngOptTSResol)
		body = w.o.AppendUint16(body, 1)
		body = append(body, tsresol, 0, 0, 0)
	}
	body = w.o.AppendUint32(body, 0) // opt_endofopt
	w.block(ngIDBType, body)
}

// packet adds an EPB; perSec is the interface's timestamp unit.
func (w *ngWriter) packet(id uint32, ts time.Time, perSec uint64, frame []byte, orig int) {
	units := uint64(ts.Unix())*perSec + uint64(ts.Nanosecond())*perSec/1e9
	body := w.o.AppendUint32(nil, id)
	body = w.o.AppendUint32(body, uint32(units>>32))
	body = w.o.AppendUint32(body, uint32(units))
	body = w.o.AppendUint32(body, uint32(len(frame)))
	body = w.o.AppendUint32(body, uint32(orig))
	body = append(body, frame...)
	w.block(ngEPBType, body)
}

func (w *ngWriter) simple(frame []byte) {
	body := w.o.AppendUint32(nil, uint32(len(frame)))
	w.block(ngSPBType, append(body, frame...))
}
