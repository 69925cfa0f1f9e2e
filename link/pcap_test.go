package link

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pcapFile is a parsed classic pcap stream.
type pcapFile struct {
	magic             uint32
	major, minor      uint16
	zone, sigfigs     uint32
	snaplen, linkType uint32
	records           []pcapRecord
}

type pcapRecord struct {
	sec, usec, incl, orig uint32
	data                  []byte
}

// parsePcap is an independent little-endian pcap reader for the tests.
func parsePcap(b []byte) (*pcapFile, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("short global header: %d bytes", len(b))
	}
	le := binary.LittleEndian
	f := &pcapFile{
		magic: le.Uint32(b[0:]), major: le.Uint16(b[4:]), minor: le.Uint16(b[6:]),
		zone: le.Uint32(b[8:]), sigfigs: le.Uint32(b[12:]),
		snaplen: le.Uint32(b[16:]), linkType: le.Uint32(b[20:]),
	}
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			return nil, fmt.Errorf("short record header: %d bytes", len(b))
		}
		r := pcapRecord{sec: le.Uint32(b[0:]), usec: le.Uint32(b[4:]), incl: le.Uint32(b[8:]), orig: le.Uint32(b[12:])}
		b = b[16:]
		if uint32(len(b)) < r.incl {
			return nil, fmt.Errorf("record claims %d bytes, %d left", r.incl, len(b))
		}
		r.data, b = b[:r.incl], b[r.incl:]
		f.records = append(f.records, r)
	}
	return f, nil
}

// synPacket returns a well-formed IPv4 TCP SYN from 10.0.0.1:port to
// 10.0.0.2:80, so that packet dissectors have something real to chew on.
func synPacket(port uint16) []byte {
	p := make([]byte, 40)
	be := binary.BigEndian
	p[0] = 0x45             // IPv4, 20-byte header
	be.PutUint16(p[2:], 40) // total length
	p[8], p[9] = 64, 6      // TTL, protocol TCP
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	be.PutUint16(p[10:], ^checksum(p[:20], 0))
	tcp := p[20:]
	be.PutUint16(tcp[0:], port)
	be.PutUint16(tcp[2:], 80)
	be.PutUint32(tcp[4:], 1000) // sequence number
	tcp[12] = 5 << 4            // data offset
	tcp[13] = 0x02              // SYN
	be.PutUint16(tcp[14:], 65535)
	pseudo := uint32(0)
	for i := 12; i < 20; i += 2 {
		pseudo += uint32(be.Uint16(p[i:]))
	}
	pseudo += 6 + uint32(len(tcp))
	be.PutUint16(tcp[16:], ^checksum(tcp, pseudo))
	return p
}

// checksum is the ones'-complement sum of b, starting from sum.
func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

func TestPcapWriter(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPcapWriter(&buf, 64)
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Unix(1700000000, 123456789)
	t2 := time.Unix(1700000001, 999999)
	long := numbered(7, 100)
	if err := p.WritePacket(t1, synPacket(1234)); err != nil {
		t.Fatal(err)
	}
	if err := p.WritePacket(t2, long); err != nil {
		t.Fatal(err)
	}

	f, err := parsePcap(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.magic != 0xa1b2c3d4 || f.major != 2 || f.minor != 4 || f.zone != 0 || f.sigfigs != 0 ||
		f.snaplen != 64 || f.linkType != 101 {
		t.Fatalf("global header %+v", f)
	}
	if len(f.records) != 2 {
		t.Fatalf("%d records, want 2", len(f.records))
	}
	r := f.records[0]
	if r.sec != 1700000000 || r.usec != 123456 || r.incl != 40 || r.orig != 40 || !bytes.Equal(r.data, synPacket(1234)) {
		t.Fatalf("record 0: %+v", r)
	}
	r = f.records[1]
	if r.sec != 1700000001 || r.usec != 999 || r.incl != 64 || r.orig != 100 || !bytes.Equal(r.data, long[:64]) {
		t.Fatalf("record 1 (snapped): sec %d usec %d incl %d orig %d", r.sec, r.usec, r.incl, r.orig)
	}
}

func TestPcapDefaultSnaplen(t *testing.T) {
	for _, snap := range []int{0, -1, 1 << 20} {
		var buf bytes.Buffer
		if _, err := NewPcapWriter(&buf, snap); err != nil {
			t.Fatal(err)
		}
		if f, err := parsePcap(buf.Bytes()); err != nil || f.snaplen != 65535 {
			t.Fatalf("snaplen %d gave header snaplen %d (%v), want 65535", snap, f.snaplen, err)
		}
	}
}

type failWriter struct{ after int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(b []byte) (int, error) {
	if w.after == 0 {
		return 0, errDisk
	}
	w.after--
	return len(b), nil
}

func TestPcapWriteErrorsStick(t *testing.T) {
	if _, err := NewPcapWriter(&failWriter{}, 0); !errors.Is(err, errDisk) {
		t.Fatalf("NewPcapWriter = %v, want the write error", err)
	}
	p, err := NewPcapWriter(&failWriter{after: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Err() != nil {
		t.Fatal("Err set before any failure")
	}
	for range 2 {
		if err := p.WritePacket(time.Now(), []byte{1}); !errors.Is(err, errDisk) {
			t.Fatalf("WritePacket = %v, want the write error", err)
		}
	}
	if !errors.Is(p.Err(), errDisk) {
		t.Fatalf("Err = %v", p.Err())
	}
}

func TestCapture(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPcapWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	sim, a, b := simPipe(PipeConfig{AtoB: Impairments{Delay: 1500 * time.Microsecond}})
	ca, cb := Capture(a, p, sim), Capture(b, p, sim)
	if ca.MTU() != 1500 {
		t.Fatal("Capture hid the MTU")
	}
	syn := synPacket(4321)
	if err := ca.WritePackets([][]byte{syn}); err != nil {
		t.Fatal(err)
	}
	sim.Advance(1500 * time.Microsecond)
	bufs := [][]byte{make([]byte, 1500), make([]byte, 1500)}
	sizes := make([]int, 2)
	if n, err := cb.ReadPackets(bufs, sizes); n != 1 || err != nil {
		t.Fatalf("ReadPackets = %d, %v", n, err)
	}
	// A rejected write is recorded too: the capture shows what the stack
	// tried to send.
	if err := cb.WritePackets([][]byte{make([]byte, 2000)}); !errors.Is(err, ErrTooBig) {
		t.Fatalf("oversized write through Capture = %v", err)
	}

	f, err := parsePcap(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.records) != 3 {
		t.Fatalf("%d records, want write, read, rejected write", len(f.records))
	}
	for i, wantUsec := range []uint32{0, 1500} {
		r := f.records[i]
		if !bytes.Equal(r.data, syn) || r.sec != uint32(epoch.Unix()) || r.usec != wantUsec {
			t.Fatalf("record %d: sec %d usec %d, %d bytes", i, r.sec, r.usec, len(r.data))
		}
	}
	if err := cb.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadPackets(bufs, sizes); !errors.Is(err, ErrClosed) {
		t.Fatal("closing the capture did not close the link")
	}
}

func TestPcapReadableByTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; CI installs it to check our pcap files")
	}
	path := filepath.Join(t.TempDir(), "syn.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPcapWriter(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p.WritePacket(time.Unix(1700000000, int64(i)*1000), synPacket(uint16(1000+i)))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Ask for fields rather than the summary line, whose layout varies
	// between versions; with checksum checks on, status 1 means good.
	cmd := exec.Command(tshark, "-r", path,
		"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport",
		"-e", "ip.checksum.status", "-e", "tcp.checksum.status")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("tshark read %d packets, want 3:\n%s", len(lines), out)
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("tshark line %q: want 5 fields", line)
		}
		// Versions differ in how many fraction digits they print.
		sec, frac, _ := strings.Cut(f[0], ".")
		frac = (frac + "000000000")[:9]
		want := []string{"1700000000", fmt.Sprintf("%09d", i*1000), "10.0.0.1", fmt.Sprint(1000 + i), "1", "1"}
		got := []string{sec, frac, f[1], f[2], f[3], f[4]}
		if !slices.Equal(got, want) {
			t.Fatalf("tshark packet %d: time, src, port, ip and tcp checksum status = %q, want %q", i+1, got, want)
		}
	}
}
