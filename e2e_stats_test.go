package threeway

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/clock"
	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
	"github.com/threeway-tcp/threeway/wire"
)

// rawSYN builds an IPv4 SYN from src to dst with a correct checksum.
func rawSYN(src, dst netip.AddrPort) []byte {
	pkt := make([]byte, wire.IPv4HeaderLen+wire.TCPHeaderLen+4)
	tb := pkt[wire.IPv4HeaderLen:]
	opts := wire.Options{HasMSS: true, MSS: 1460}
	n := wire.EncodeTCP(tb, &wire.TCPFields{SrcPort: src.Port(), DstPort: dst.Port(), Seq: 12345, Flags: wire.FlagSYN, Window: 65535}, &opts, nil)
	tb = tb[:n]
	wire.TCP(tb).SetChecksum(wire.TCPChecksum(src.Addr(), dst.Addr(), tb))
	wire.EncodeIPv4(pkt, &wire.IPv4Fields{Src: src.Addr(), Dst: dst.Addr(), Protocol: wire.ProtoTCP, TTL: 64, PayloadLen: n})
	return pkt[:wire.IPv4HeaderLen+n]
}

// TestStats checks the counters after one echo, and that a packet with a
// bad TCP checksum, written straight into the pipe, is counted as a
// BadChecksum drop and goes no further.
func TestStats(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, netConfig{})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	defer wait()
	defer l.Close()

	// A SYN for the listener with one bit flipped after the checksum was
	// computed. The pipe is FIFO, so the server has handled it by the
	// time the echo below is done.
	bad := rawSYN(netip.AddrPortFrom(clientAddr.Addr(), 40000), netip.AddrPortFrom(serverAddr.Addr(), 7))
	if !wire.VerifyTCPChecksum(clientAddr.Addr(), serverAddr.Addr(), bad[wire.IPv4HeaderLen:]) {
		t.Fatal("rawSYN built a bad checksum")
	}
	bad[wire.IPv4HeaderLen+4] ^= 0x10 // in the sequence number
	if err := n.a.WritePackets([][]byte{bad}); err != nil {
		t.Fatal(err)
	}

	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	if err := echoConn(c, "count me"); err != nil {
		t.Fatal(err)
	}
	// The client closed first: it waits in TIME-WAIT, and once the server
	// has forgotten the connection every segment has been delivered.
	waitState(t, c.(*Conn), tcp.TimeWait)
	waitFor(t, 10*time.Second, "the server to close", func() bool { return n.server.numConns() == 0 })
	cs, ss := n.client.Stats(), n.server.Stats()
	if cs.ActiveOpens != 1 || cs.PassiveOpens != 0 || ss.PassiveOpens != 1 || ss.ActiveOpens != 0 {
		t.Errorf("opens: client active %d passive %d, server active %d passive %d; want 1 0 0 1",
			cs.ActiveOpens, cs.PassiveOpens, ss.ActiveOpens, ss.PassiveOpens)
	}
	if cs.InSegs == 0 || cs.OutSegs == 0 || ss.InSegs == 0 || ss.OutSegs == 0 {
		t.Errorf("segment counters: client in %d out %d, server in %d out %d", cs.InSegs, cs.OutSegs, ss.InSegs, ss.OutSegs)
	}
	if got := ss.Drops[tcp.DropBadChecksum]; got != 1 {
		t.Errorf("server Drops[BadChecksum] = %d, want 1", got)
	}
	if ss.InErrs != 1 {
		t.Errorf("server InErrs = %d, want 1", ss.InErrs)
	}
	if cs.Drops[tcp.DropBadChecksum] != 0 || cs.InErrs != 0 {
		t.Errorf("client counted bad packets: %v", cs.DropCounts())
	}
	// Every segment one side sent, the other received (the corrupted
	// packet never made it to the TCP counters).
	if cs.OutSegs != ss.InSegs || ss.OutSegs != cs.InSegs {
		t.Errorf("client out %d / server in %d, server out %d / client in %d: segments lost on a perfect link",
			cs.OutSegs, ss.InSegs, ss.OutSegs, cs.InSegs)
	}
	if cs.RetransSegs != 0 || ss.RetransSegs != 0 || cs.OutRsts != 0 || ss.OutRsts != 0 {
		t.Errorf("retransmissions %d/%d, resets %d/%d on a clean echo", cs.RetransSegs, ss.RetransSegs, cs.OutRsts, ss.OutRsts)
	}
	if cs.CurrEstab != 0 || ss.CurrEstab != 0 {
		t.Errorf("CurrEstab %d/%d after both closed", cs.CurrEstab, ss.CurrEstab)
	}
	m := cs.Map()
	if m["ActiveOpens"] != uint64(1) {
		t.Errorf("Stats.Map ActiveOpens = %v", m["ActiveOpens"])
	}
	if d := ss.DropCounts(); d["BadChecksum"] != 1 {
		t.Errorf("DropCounts = %v", d)
	}
}

// TestPcapCapture records an IPv4 and an IPv6 echo at the client's end of
// the pipe, checks the capture's size, and if tshark is installed has it
// dissect every packet with checksum validation on: no malformed packet,
// no expert error, no bad checksum.
func TestPcapCapture(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "echo.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	pw, err := link.NewPcapWriter(bw, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNet(t, netConfig{wrapClient: func(l link.Link) link.Link { return link.Capture(l, pw, clock.Real) }})
	l := listen(t, n.server, ":7")
	wait := serveEcho(l)
	for _, dst := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		if err := echoOnce(n.client, dst, []byte(strings.Repeat("pcap ", 1000))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	wait()
	n.close() // no more packets
	if err := pw.Err(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	records, err := pcapRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every segment the client stack sent or handled is in the capture.
	// (A packet read just as the stack closes is captured but not
	// handled, so the capture may hold more.)
	st := n.client.Stats()
	if handled := int(st.InSegs + st.OutSegs); records < handled || handled < 20 {
		t.Fatalf("capture holds %d packets; the client sent and received %d TCP segments", records, handled)
	}

	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH: capture not dissected")
	}
	tcpFrames := strings.Count(runTshark(t, tshark, path, "-Y", "tcp", "-T", "fields", "-e", "frame.number"), "\n")
	if tcpFrames != records {
		t.Errorf("tshark found %d TCP packets in a capture of %d:\n%s", tcpFrames, records, runTshark(t, tshark, path))
	}
	for _, proto := range []string{"ip", "ipv6"} {
		if k := strings.Count(runTshark(t, tshark, path, "-Y", proto+" && tcp.len > 0", "-T", "fields", "-e", "frame.number"), "\n"); k == 0 {
			t.Errorf("tshark found no %s data segments", proto)
		}
	}
	if out := tsharkProblems(t, tshark, path); out != "" {
		t.Errorf("tshark found problems:\n%s", out)
	}

	// The check can fail: a capture of a packet with a bad checksum trips it.
	badPath := filepath.Join(t.TempDir(), "bad.pcap")
	bf, err := os.Create(badPath)
	if err != nil {
		t.Fatal(err)
	}
	bpw, err := link.NewPcapWriter(bf, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := rawSYN(netip.AddrPortFrom(clientAddr.Addr(), 40000), netip.AddrPortFrom(serverAddr.Addr(), 7))
	bad[wire.IPv4HeaderLen+4] ^= 0x10
	bpw.WritePacket(time.Now(), bad)
	if err := bf.Close(); err != nil {
		t.Fatal(err)
	}
	if out := tsharkProblems(t, tshark, badPath); out == "" {
		t.Error("tshark's filter did not flag a packet with a bad checksum")
	}
}

// pcapRecords counts the records of a classic pcap file.
func pcapRecords(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		return 0, fmt.Errorf("%s: not a little-endian pcap file", path)
	}
	n := 0
	for off := 24; off < len(b); n++ {
		if off+16 > len(b) {
			return n, fmt.Errorf("%s: truncated record header at %d", path, off)
		}
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		if off > len(b) {
			return n, fmt.Errorf("%s: truncated record", path)
		}
	}
	return n, nil
}

func runTshark(t *testing.T, tshark, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tshark, append([]string{"-n", "-r", path}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user preferences
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// tsharkProblems lists the packets tshark finds malformed, with an expert
// error, or with a bad TCP checksum.
func tsharkProblems(t *testing.T, tshark, path string) string {
	t.Helper()
	out := runTshark(t, tshark, path, "-o", "tcp.check_checksum:TRUE", "-Y",
		`_ws.malformed || _ws.expert.severity >= error || tcp.checksum.status == "Bad"`)
	return strings.TrimSpace(out)
}
