package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"image/png"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway"
	"github.com/threeway-tcp/threeway/link"
)

var writeDocs = flag.Bool("docs", false, "write docs/plot-lossy.svg and .png from TestPlotRendersInChromium")

// lossyCapture transfers n bytes from a client stack to a server stack
// over a pipe losing loss of the packets each way, capturing the client's
// packets to path.
func lossyCapture(t *testing.T, path string, n int, loss float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pw, err := link.NewPcapWriter(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	imp := link.Impairments{Delay: 10 * time.Millisecond, Loss: loss}
	a, b := link.Pipe(link.PipeConfig{Seed: 7, AtoB: imp, BtoA: imp})
	cli, err := threeway.New(threeway.Options{Link: link.Capture(a, pw, nil), Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv, err := threeway.New(threeway.Options{Link: b, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := srv.Listen("tcp", "192.0.2.2:9")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		k, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- k
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := cli.DialContext(ctx, "tcp", "192.0.2.2:9")
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*threeway.Conn)
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write(bytes.Repeat([]byte("threeway "), n/9)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	if k := <-got; k != int64(n/9*9) {
		t.Fatalf("server read %d bytes, want %d", k, n/9*9)
	}
	io.Copy(io.Discard, c)
	c.Close()
	waitClosed(c, 3*time.Second)
	if err := pw.Err(); err != nil {
		t.Fatal(err)
	}
}

// svgGroups parses an SVG and returns how many elements each <g id=...>
// holds.
func svgGroups(t *testing.T, b []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	groups := map[string]int{}
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 && stack[len(stack)-1] != "" {
				groups[stack[len(stack)-1]]++
			}
			id := ""
			if e.Name.Local == "g" {
				for _, a := range e.Attr {
					if a.Name.Local == "id" {
						id = a.Value
						groups[id] += 0
					}
				}
			}
			stack = append(stack, id)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return groups
}

var lossy struct {
	once sync.Once
	dir  string
	path string
}

// lossyPcap returns the path of a lossy transfer's capture, made once for
// all the tests that need one.
func lossyPcap(t *testing.T) string {
	lossy.once.Do(func() {
		dir, err := os.MkdirTemp("", "threeway-plot")
		if err != nil {
			t.Fatal(err)
		}
		lossy.dir = dir
		p := filepath.Join(dir, "lossy.pcap")
		lossyCapture(t, p, 60_000, 0.05)
		lossy.path = p
	})
	if lossy.path == "" {
		t.Fatal("no lossy capture")
	}
	return lossy.path
}

func TestPlotLossyTransfer(t *testing.T) {
	dir := t.TempDir()
	pcap := lossyPcap(t)
	svg := filepath.Join(dir, "plot.svg")
	var stderr bytes.Buffer
	if err := plotCommand([]string{pcap, "-o", svg}, io.Discard, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	g := svgGroups(t, b)
	t.Logf("series: %v", g)
	for _, id := range []string{"segments", "acks", "window", "retransmissions", "sack"} {
		if g[id] == 0 {
			t.Errorf("series %q is empty or missing", id)
		}
	}
	if _, ok := g["rto"]; !ok {
		t.Error("no rto series")
	}
	if !bytes.Contains(b, []byte("192.0.2.1:")) {
		t.Error("plot has no title naming the connection")
	}
	// The same to stdout, and the other direction (only ACKs: no bars).
	var out bytes.Buffer
	if err := plotCommand([]string{pcap, "--from", "server", "--conn", "0"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if g := svgGroups(t, out.Bytes()); g["segments"] > 8 { // bars and labels of SYN-ACKs and FINs
		t.Errorf("server's plot has %d segment bars; it sent only SYN and FIN", g["segments"])
	}
	if err := plotCommand([]string{pcap, "--from", "middle"}, io.Discard, io.Discard); err == nil {
		t.Error("--from middle accepted")
	}
}

// The SVG renders in a browser: headless Chromium turns it into a PNG
// that is not blank. Skips where Chromium is not installed (CI does not
// install it: it is large).
func TestPlotRendersInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH")
	}
	dir := t.TempDir()
	pcap := lossyPcap(t)
	if *writeDocs {
		// The README's plot: a transfer longer than the window, so its
		// edge shows.
		pcap = filepath.Join(dir, "docs.pcap")
		lossyCapture(t, pcap, 700_000, 0.01)
	}
	svg := filepath.Join(dir, "plot.svg")
	if err := plotCommand([]string{pcap, "-o", svg}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, "plot.png")
	if err := renderPNG(bin, svg, pngPath, filepath.Join(dir, "profile")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	if r.Dx() < 900 || r.Dy() < 550 {
		t.Errorf("PNG is %v", r)
	}
	// Count pixels of the segment colour (#1f3a93) and the
	// retransmission colour (#d62728), within a little tolerance.
	var blue, red int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			near := func(r8, g8, b8 uint32) bool {
				d := func(a, b uint32) uint32 { return max(a, b) - min(a, b) }
				return d(cr>>8, r8) < 40 && d(cg>>8, g8) < 40 && d(cb>>8, b8) < 40
			}
			if near(0x1f, 0x3a, 0x93) {
				blue++
			}
			if near(0xd6, 0x27, 0x28) {
				red++
			}
		}
	}
	if blue < 200 || red < 50 {
		t.Errorf("rendered plot has %d segment-coloured and %d retransmission-coloured pixels", blue, red)
	}
	if *writeDocs {
		for _, c := range [][2]string{{svg, "../../docs/plot-lossy.svg"}, {pngPath, "../../docs/plot-lossy.png"}} {
			b, err := os.ReadFile(c[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c[1], b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// renderPNG screenshots an SVG with headless Chromium, with a fresh
// profile and nothing that talks to the network.
func renderPNG(bin, svg, out, profile string) error {
	abs, err := filepath.Abs(svg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+profile, "--hide-scrollbars", "--window-size=1000,620",
		"--screenshot="+out, "file://"+abs)
	if b, err := cmd.CombinedOutput(); err != nil {
		return &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: []byte(strings.TrimSpace(string(b)))}
	}
	return nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if lossy.dir != "" {
		os.RemoveAll(lossy.dir)
	}
	os.Exit(code)
}
