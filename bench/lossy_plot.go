package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/threeway-tcp/threeway/capture"
	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/ladder"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/seqplot"
)

// plotSnaplen keeps the headers of each packet, all a time-sequence plot
// reads: 60 bytes of IP and 60 of TCP at most.
const plotSnaplen = 128

// lossyCapture records one lossy run at the client's end of the pipe, in
// memory, for a time-sequence plot of it (-lossyplot).
type lossyCapture struct {
	buf bytes.Buffer
	w   *link.PcapWriter
}

func newLossyCapture() (*lossyCapture, error) {
	lc := &lossyCapture{}
	w, err := link.NewPcapWriter(&lc.buf, plotSnaplen)
	if err != nil {
		return nil, err
	}
	lc.w = w
	return lc, nil
}

func (lc *lossyCapture) wrap(l link.Link) link.Link { return link.Capture(l, lc.w, clock.Real) }

// writeSVG draws the data direction of the run's connection (the client
// sends the data) into path.
func (lc *lossyCapture) writeSVG(path string) error {
	pkts, err := capture.ReadAll(lc.buf.Bytes())
	if err != nil {
		return err
	}
	var segs []capture.Segment
	for _, p := range pkts {
		if s, err := capture.Decode(p); err == nil {
			segs = append(segs, s)
		}
	}
	var conn *ladder.Conn
	for _, c := range ladder.Conns(segs) {
		if conn == nil || c.Bytes[ladder.Client] > conn.Bytes[ladder.Client] {
			conn = c
		}
	}
	if conn == nil {
		return fmt.Errorf("no TCP connection in the capture of %s", filepath.Base(path))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := seqplot.FromConn(conn, ladder.Client).WriteSVG(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
