package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// decodeAll reads a capture and decodes every packet.
func decodeAll(t *testing.T, b []byte) []Segment {
	t.Helper()
	pkts, err := ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	var segs []Segment
	for i, p := range pkts {
		s, err := Decode(p)
		if err != nil {
			t.Fatalf("packet %d (%s, %d bytes): %v", i, p.LinkType, len(p.Data), err)
		}
		segs = append(segs, s)
	}
	return segs
}

func TestReadThreewaysOwnPcap(t *testing.T) {
	b := pcapOf(t, 0, synPacket(t, cli4, srv4), dataPacket(t, cli4, srv4, "hello"))
	segs := decodeAll(t, b)
	if len(segs) != 2 {
		t.Fatalf("%d segments", len(segs))
	}
	if segs[0].Src != cli4 || segs[0].Dst != srv4 || segs[0].TCP.Flags() != wire.FlagSYN || segs[0].TCP.Seq() != 1000 {
		t.Errorf("SYN = %v -> %v %v seq %d", segs[0].Src, segs[0].Dst, segs[0].TCP.Flags(), segs[0].TCP.Seq())
	}
	if got := string(segs[1].TCP.Payload()); got != "hello" || segs[1].PayloadLen != 5 {
		t.Errorf("payload %q len %d", got, segs[1].PayloadLen)
	}
	if want := t0.Add(time.Millisecond).Truncate(time.Microsecond); !segs[1].Time.Equal(want) {
		t.Errorf("time %v, want %v", segs[1].Time, want)
	}
	// Zero copy: the payload is a view into the capture's bytes.
	if p := segs[1].TCP.Payload(); &p[0] != &b[len(b)-5] {
		t.Error("payload was copied")
	}
}

func TestReadClassicByteOrdersAndNanoseconds(t *testing.T) {
	ip := synPacket(t, cli6, srv6)
	for _, tc := range []struct {
		name string
		o    binary.AppendByteOrder
		nano bool
		want time.Time
	}{
		{"big-endian micro", binary.BigEndian, false, t0.Truncate(time.Microsecond)},
		{"little-endian nano", binary.LittleEndian, true, t0},
		{"big-endian nano", binary.BigEndian, true, t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs := decodeAll(t, classicPcap(tc.o, tc.nano, LinkRaw, ip))
			if len(segs) != 1 || segs[0].Src != cli6 || !segs[0].Time.Equal(tc.want) {
				t.Fatalf("got %+v, want one SYN from %v at %v", segs, cli6, tc.want)
			}
		})
	}
}

func TestDecodeLinkTypes(t *testing.T) {
	ip4, ip6 := dataPacket(t, cli4, srv4, "four"), dataPacket(t, cli6, srv6, "six")
	for _, tc := range []struct {
		name  string
		lt    LinkType
		frame []byte
		src   string
		data  string
	}{
		{"ethernet v4", LinkEthernet, ethernet(ip4), cli4.String(), "four"},
		{"ethernet v6", LinkEthernet, ethernet(ip6), cli6.String(), "six"},
		{"ethernet 802.1Q", LinkEthernet, ethernet(ip4, 42), cli4.String(), "four"},
		{"ethernet QinQ", LinkEthernet, ethernet(ip6, 1, 2), cli6.String(), "six"},
		{"cooked v1", LinkLinuxSLL, sll(ip4), cli4.String(), "four"},
		{"cooked v2", LinkLinuxSLL2, sll2(ip6), cli6.String(), "six"},
		{"raw", LinkRaw, ip6, cli6.String(), "six"},
		{"ipv4", LinkIPv4, ip4, cli4.String(), "four"},
		{"bsd null", LinkNull, append([]byte{2, 0, 0, 0}, ip4...), cli4.String(), "four"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			segs := decodeAll(t, classicPcap(binary.LittleEndian, false, tc.lt, tc.frame))
			if s := segs[0]; s.Src.String() != tc.src || string(s.TCP.Payload()) != tc.data {
				t.Errorf("from %v payload %q", s.Src, s.TCP.Payload())
			}
		})
	}
}

func TestDecodeSnaplenCut(t *testing.T) {
	payload := strings.Repeat("x", 1000)
	b := pcapOf(t, 96, dataPacket(t, cli4, srv4, payload))
	segs := decodeAll(t, b)
	s := segs[0]
	if s.PayloadLen != 1000 || len(s.TCP.Payload()) != 96-40 {
		t.Errorf("payload length %d, captured %d; want 1000 and 56", s.PayloadLen, len(s.TCP.Payload()))
	}
	// Cut inside the TCP header: a clear error, not a guess.
	pkts, _ := ReadAll(pcapOf(t, 30, synPacket(t, cli4, srv4)))
	if _, err := Decode(pkts[0]); !errors.Is(err, ErrCut) {
		t.Errorf("header cut: %v, want ErrCut", err)
	}
}

func TestDecodeNotTCP(t *testing.T) {
	ip := make([]byte, 28)
	wire.EncodeIPv4(ip, &wire.IPv4Fields{Src: cli4.Addr(), Dst: srv4.Addr(), Protocol: 17, TTL: 64, PayloadLen: 8})
	pkts, _ := ReadAll(pcapOf(t, 0, ip))
	if _, err := Decode(pkts[0]); !errors.Is(err, ErrNotTCP) {
		t.Errorf("UDP: %v", err)
	}
	arp := ethernet(ip)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	pkts, _ = ReadAll(classicPcap(binary.LittleEndian, false, LinkEthernet, arp))
	if _, err := Decode(pkts[0]); !errors.Is(err, ErrNotIP) {
		t.Errorf("ARP: %v", err)
	}
	pkts, _ = ReadAll(classicPcap(binary.LittleEndian, false, 147, ip))
	if _, err := Decode(pkts[0]); !errors.Is(err, ErrLinkType) {
		t.Errorf("link type 147: %v", err)
	}
}

func TestReadPcapng(t *testing.T) {
	ip4, ip6 := synPacket(t, cli4, srv4), dataPacket(t, cli6, srv6, "six")
	for _, o := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		w := &ngWriter{o: o}
		w.section()
		w.iface(LinkEthernet, 0)  // microseconds
		w.iface(LinkLinuxSLL2, 9) // nanoseconds, as Wireshark writes
		w.packet(0, t0, 1e6, ethernet(ip4), len(ethernet(ip4)))
		w.block(5, []byte("interface statistics: skipped")) // a block the reader does not need
		w.packet(1, t0.Add(time.Second), 1e9, sll2(ip6), len(sll2(ip6)))
		// A second section, the other byte order, its own interfaces.
		w2 := &ngWriter{o: binary.BigEndian}
		if o == binary.BigEndian {
			w2.o = binary.LittleEndian
		}
		w2.section()
		w2.iface(LinkRaw, 0x80|20) // 2^-20 s units
		w2.packet(0, t0.Add(2*time.Second), 1<<20, ip4, len(ip4))
		w2.simple(ip6)
		b := append(w.b, w2.b...)
		segs := decodeAll(t, b)
		if len(segs) != 4 {
			t.Fatalf("%v: %d segments", o, len(segs))
		}
		if !segs[0].Time.Equal(t0.Truncate(time.Microsecond)) || !segs[1].Time.Equal(t0.Add(time.Second)) {
			t.Errorf("%v: times %v, %v", o, segs[0].Time, segs[1].Time)
		}
		if d := segs[2].Time.Sub(t0.Add(2 * time.Second)); d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("%v: binary-resolution time off by %v", o, d)
		}
		if segs[1].Src != cli6 || string(segs[1].TCP.Payload()) != "six" || segs[3].Src != cli6 {
			t.Errorf("%v: %v %q %v", o, segs[1].Src, segs[1].TCP.Payload(), segs[3].Src)
		}
	}
}

// Every way a capture can be wrong gives an error that says what and
// where; none panics.
func TestReadMalformed(t *testing.T) {
	good := pcapOf(t, 0, synPacket(t, cli4, srv4))
	le := binary.LittleEndian
	mod := func(b []byte, f func([]byte)) []byte { c := bytes.Clone(b); f(c); return c }
	ng := &ngWriter{o: le}
	ng.section()
	ng.iface(LinkRaw, 0)
	ng.packet(0, t0, 1e6, synPacket(t, cli4, srv4), 60)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrFormat, "0 bytes"},
		{"text", []byte("GET / HTTP/1.1\r\n\r\n"), ErrFormat, "magic"},
		{"short header", good[:20], ErrTruncated, "file header"},
		{"version", mod(good, func(b []byte) { le.PutUint16(b[4:], 9) }), ErrMalformed, "version 9"},
		{"huge record", mod(good, func(b []byte) { le.PutUint32(b[32:], 1<<30); le.PutUint32(b[36:], 1<<30) }), ErrMalformed, "captured length"},
		{"incl > orig", mod(good, func(b []byte) { le.PutUint32(b[36:], 10) }), ErrMalformed, "captured length"},
		{"usec", mod(good, func(b []byte) { le.PutUint32(b[28:], 2e6) }), ErrMalformed, "timestamp"},
		{"cut record header", good[:30], ErrTruncated, "record at byte 24: record header"},
		{"cut packet", good[:len(good)-3], ErrTruncated, "packet is"},
		{"ng cut block", ng.b[:len(ng.b)-8], ErrTruncated, "block is"},
		{"ng bad trailer", mod(ng.b, func(b []byte) { le.PutUint32(b[len(b)-4:], 8) }), ErrMalformed, "trailer"},
		{"ng bad length", mod(ng.b, func(b []byte) { le.PutUint32(b[4:], 13) }), ErrMalformed, "block length 13"},
		{"ng byte order", mod(ng.b, func(b []byte) { le.PutUint32(b[8:], 7) }), ErrFormat, "byte-order"},
		{"ng no interface", func() []byte {
			w := &ngWriter{o: le}
			w.section()
			w.packet(3, t0, 1e6, synPacket(t, cli4, srv4), 60)
			return w.b
		}(), ErrMalformed, "interface 3 of 0"},
		{"ng caplen", func() []byte {
			w := &ngWriter{o: le}
			w.section()
			w.iface(LinkRaw, 0)
			w.packet(0, t0, 1e6, []byte{0x45}, 1)
			le.PutUint32(w.b[len(w.b)-4-4-4-4:], 200) // captured length field
			return w.b
		}(), ErrMalformed, "captured length 200"},
		{"ng tsresol", func() []byte {
			w := &ngWriter{o: le}
			w.section()
			w.iface(LinkRaw, 25)
			return w.b
		}(), ErrMalformed, "if_tsresol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadAll(tc.b)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

// A capture cut anywhere (tcpdump killed mid-write) reads up to the cut
// and then says it was cut.
func TestReadEveryPrefix(t *testing.T) {
	w := &ngWriter{o: binary.LittleEndian}
	w.section()
	w.iface(LinkEthernet, 0)
	w.packet(0, t0, 1e6, ethernet(synPacket(t, cli4, srv4)), 0)
	w.packet(0, t0, 1e6, ethernet(dataPacket(t, cli4, srv4, "hello")), 0)
	for _, full := range [][]byte{pcapOf(t, 0, synPacket(t, cli4, srv4), dataPacket(t, cli4, srv4, "hi")), w.b} {
		for n := 4; n < len(full); n++ {
			pkts, err := ReadAll(full[:n])
			if err != nil && !errors.Is(err, ErrTruncated) {
				t.Fatalf("prefix %d: %v", n, err)
			}
			for _, p := range pkts {
				Decode(p)
			}
		}
	}
}

func TestNextAfterEOF(t *testing.T) {
	r, err := NewReader(pcapOf(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next = %v, want EOF", err)
		}
	}
}
