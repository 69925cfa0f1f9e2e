package seqplot

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/wire"
)

// pcapOfSegs writes the transfer's segments as raw IPv4 packets.
func pcapOfSegs(f *testing.F, segs []capture.Segment) []byte {
	var buf bytes.Buffer
	w, err := link.NewPcapWriter(&buf, 0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range segs {
		ip := make([]byte, wire.IPv4HeaderLen+len(s.TCP))
		wire.EncodeIPv4(ip, &wire.IPv4Fields{Src: s.Src.Addr(), Dst: s.Dst.Addr(), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: len(s.TCP)})
		copy(ip[wire.IPv4HeaderLen:], s.TCP)
		binary.BigEndian.PutUint16(ip[wire.IPv4HeaderLen:], s.Src.Port())
		binary.BigEndian.PutUint16(ip[wire.IPv4HeaderLen+2:], s.Dst.Port())
		w.WritePacket(s.Time, ip)
	}
	return buf.Bytes()
}

// FuzzCaptureToLadderAndPlot runs arbitrary captures through everything
// that draws them: the reader, connection tracking, state inference, the
// ladder and the plot. None of it may panic.
func FuzzCaptureToLadderAndPlot(f *testing.F) {
	f.Add(pcapOfSegs(f, transfer().Segs))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, _ := capture.ReadAll(b)
		var segs []capture.Segment
		for _, p := range pkts {
			if s, err := capture.Decode(p); err == nil {
				segs = append(segs, s)
			}
		}
		for _, c := range ladder.Conns(segs) {
			ladder.Render(c.Events(), ladder.CaptureStyle(false))
			for _, side := range []ladder.Side{ladder.Client, ladder.Server} {
				if err := FromConn(c, side).WriteSVG(io.Discard); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
