package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLossyPlot draws one short lossy run of each stack and checks that
// the SVG is well-formed and holds the segments and retransmissions of
// the run's data direction.
func TestLossyPlot(t *testing.T) {
	dir := t.TempDir()
	lp := lossyPaths[2] // 2% loss: there are retransmissions to draw
	for _, k := range []kind{threewayKind, gvisorKind} {
		lc, err := newLossyCapture()
		if err != nil {
			t.Fatal(err)
		}
		pc := lp.pairConfig(1500, 1<<20, 1)
		pc.WrapClient = lc.wrap
		if _, err := measureLossy(k, pc, 500*time.Millisecond, nil); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, k.String()+".svg")
		if err := lc.writeSVG(path); err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(strings.NewReader(string(b)))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%v: SVG does not parse: %v", k, err)
				}
				break
			}
		}
		svg := string(b)
		if n := strings.Count(svg, "<path d="); n < 50 {
			t.Errorf("%v: %d segments drawn, want the run's hundreds", k, n)
		}
		_, retrans, _ := strings.Cut(svg, `<g id="retransmissions"`)
		retrans, _, _ = strings.Cut(retrans, "</g>")
		if !strings.Contains(retrans, "<path d=") {
			t.Errorf("%v: no retransmission drawn on a path with 2%% loss", k)
		}
	}
}
