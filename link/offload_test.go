package link

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// largeSegment is an IPv4 TCP segment from 10.0.0.1 to 10.0.0.2 with n
// bytes of payload and a correct checksum.
func largeSegment(n int) []byte {
	p := append(synPacket(4321), make([]byte, n)...)
	for i := 40; i < len(p); i++ {
		p[i] = byte(i)
	}
	be := binary.BigEndian
	be.PutUint16(p[2:], uint16(len(p)))
	be.PutUint16(p[10:], 0)
	be.PutUint16(p[10:], ^checksum(p[:20], 0))
	p[33] = 0x10 // ACK
	be.PutUint16(p[36:], 0)
	pseudo := uint32(be.Uint16(p[12:])) + uint32(be.Uint16(p[14:])) + uint32(be.Uint16(p[16:])) + uint32(be.Uint16(p[18:])) + 6 + uint32(len(p)-20)
	be.PutUint16(p[36:], ^checksum(p[20:], pseudo))
	return p
}

// A pipe with MaxPacket carries large segments whole and says so in its
// Offloads; without it, it has none and refuses them.
func TestPipeCarriesLargeSegments(t *testing.T) {
	a, b := Pipe(PipeConfig{MaxPacket: 65575})
	if o := a.Offloads(); !o.TSO4 || !o.TSO6 || o.MaxPacket != 65575 || o.Checksum {
		t.Fatalf("offloads %+v", o)
	}
	seg := largeSegment(60000)
	if err := a.WritePacketsInfo([][]byte{seg}, []PacketInfo{{GSOSize: 1460}}); err != nil {
		t.Fatal(err)
	}
	bufs, sizes, info := [][]byte{make([]byte, 65575)}, []int{0}, []PacketInfo{{GSOSize: 9}}
	if n, err := b.ReadPacketsInfo(bufs, sizes, info); n != 1 || err != nil || !bytes.Equal(bufs[0][:sizes[0]], seg) {
		t.Fatalf("read %d, %v, %d bytes", n, err, sizes[0])
	}
	if info[0] != (PacketInfo{}) {
		t.Fatalf("stale info %+v", info[0])
	}
	if err := a.WritePacketsInfo([][]byte{make([]byte, 65576)}, nil); !errors.Is(err, ErrTooBig) {
		t.Fatalf("oversized: %v", err)
	}
	plain, _ := Pipe(PipeConfig{})
	if o, _ := OffloadsOf(plain); o != nil {
		t.Fatal("a plain pipe reports offloads")
	}
	if err := plain.WritePackets([][]byte{seg}); !errors.Is(err, ErrTooBig) {
		t.Fatalf("plain pipe took a large segment: %v", err)
	}
}

// Capture keeps the link's offloads and records a large segment as one
// record, its partial checksum completed as it will go out.
func TestCaptureRecordsLargeSegments(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPcapWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := Pipe(PipeConfig{MaxPacket: 65575})
	ca := Capture(a, p, nil)
	ol, off := OffloadsOf(ca)
	if ol == nil || off != a.Offloads() {
		t.Fatalf("Capture hid the offloads: %+v", off)
	}
	seg := largeSegment(30000)
	partial := append([]byte(nil), seg...)
	be := binary.BigEndian
	pseudo := uint32(be.Uint16(seg[12:])) + uint32(be.Uint16(seg[14:])) + uint32(be.Uint16(seg[16:])) + uint32(be.Uint16(seg[18:])) + 6 + uint32(len(seg)-20)
	be.PutUint16(partial[36:], checksum(nil, pseudo))
	if err := ol.WritePacketsInfo([][]byte{partial}, []PacketInfo{{GSOSize: 1460, PartialChecksum: true}}); err != nil {
		t.Fatal(err)
	}
	bufs, sizes := [][]byte{make([]byte, 65575)}, []int{0}
	b.ReadPackets(bufs, sizes)
	f, err := parsePcap(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.records) != 1 || !bytes.Equal(f.records[0].data, seg) {
		t.Fatalf("%d records; first differs from the completed segment", len(f.records))
	}
	if !bytes.Equal(partial[36:38], bufs[0][36:38]) {
		t.Fatal("the capture changed the packet it passed on")
	}
}
