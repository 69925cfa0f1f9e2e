package capture

import (
	"encoding/binary"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader and the decoder: they
// may reject them, never panic, and every packet they return lies within
// the input.
func FuzzReader(f *testing.F) {
	f.Add(pcapOf(f, 0, synPacket(f, cli4, srv4), dataPacket(f, cli6, srv6, "hello")))
	f.Add(pcapOf(f, 50, dataPacket(f, cli4, srv4, "cut by the snap length")))
	f.Add(classicPcap(binary.BigEndian, true, LinkEthernet, ethernet(synPacket(f, cli4, srv4), 7)))
	f.Add(classicPcap(binary.LittleEndian, false, LinkLinuxSLL, sll(synPacket(f, cli6, srv6))))
	w := &ngWriter{o: binary.LittleEndian}
	w.section()
	w.iface(LinkLinuxSLL2, 9)
	w.packet(0, t0, 1e9, sll2(dataPacket(f, cli4, srv4, "x")), 200)
	w.simple(sll2(synPacket(f, cli4, srv4)))
	f.Add(w.b)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, _ := ReadAll(b)
		for _, p := range pkts {
			if len(p.Data) > len(b) || p.OrigLen < len(p.Data) {
				t.Fatalf("packet of %d bytes (orig %d) from %d bytes", len(p.Data), p.OrigLen, len(b))
			}
			s, err := Decode(p)
			if err == nil && (len(s.TCP) < wire20 || s.PayloadLen < 0) {
				t.Fatalf("segment of %d bytes, payload length %d", len(s.TCP), s.PayloadLen)
			}
		}
	})
}

const wire20 = 20
