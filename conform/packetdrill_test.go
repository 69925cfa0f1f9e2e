package conform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threeway-tcp/threeway/wire"
)

// The packetdrill syntax the corpus uses beyond the project's scripts:
// Fast Open and MD5 options, IP header fields, ICMP lines, msghdr
// structs, the cleanup command and -D definitions.
func TestParsePacketdrillSyntax(t *testing.T) {
	src := "`init`\n" +
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" +
		"+0 < (tos 0x2, ttl 32) S 999000:999000(0) win 1 <mss 1460,FOEXP COOKIE,FO,md5 00112233445566778899aabbccddeeff>\n" +
		"+0 > [ect0] S. 0:0(0) ack 999001 <FO 0011223344556677,nop,nop>\n" +
		"+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n" +
		"+0 recvmsg(3, {msg_name(...)=...,\n msg_iov(1)=[{...,1000}],\n msg_flags=MSG_ERRQUEUE,\n msg_control=[]}, MSG_ERRQUEUE) = -1 EAGAIN (Resource temporarily unavailable)\n" +
		"+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n" +
		"`cleanup`\n"
	s, err := ParseDefines("t.pkt", src, map[string]string{"COOKIE": "aabbccdd"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Cleanup != "cleanup" || s.Events[0].Command != "init" || len(s.Events) != 7 {
		t.Fatalf("events %d, cleanup %q", len(s.Events), s.Cleanup)
	}
	in := s.Events[2].Packet
	if !in.IP.HasTOS || in.IP.TOS != 2 || in.IP.TTL != 32 || in.Start != 999000 {
		t.Errorf("ip info %+v", in.IP)
	}
	if len(in.Options) != 4 || in.Options[1].Kind != OptFastOpenExp || string(in.Options[1].Cookie) != "\xaa\xbb\xcc\xdd" ||
		in.Options[2].Kind != OptFastOpen || in.Options[2].Cookie != nil || in.Options[3].Kind != OptMD5 || len(in.Options[3].Cookie) != 16 {
		t.Errorf("options %+v", in.Options)
	}
	out := s.Events[3].Packet
	if !out.IP.HasECN || out.IP.ECN != 2 || out.Ack != 999001 {
		t.Errorf("outbound %+v", out)
	}
	ic := s.Events[4].Packet.ICMP
	if ic == nil || ic.Type != "unreachable" || ic.Code != "frag_needed" || ic.MTU != 1200 || !ic.HasEchoed || ic.Start != 1 || ic.End != 1461 {
		t.Errorf("icmp %+v", ic)
	}
	sc := s.Events[5].Syscall
	if sc.Errno != "EAGAIN" {
		t.Errorf("errno on the msghdr's last line: %q", sc.Errno)
	}
	n, flags, ctl, err := msghdr(sc.Args[1])
	if err != nil || n != 1000 || flags == nil || flags.Word != "MSG_ERRQUEUE" || ctl == nil || ctl.Kind != ExprArray {
		t.Errorf("msghdr: %d %v %v %v", n, flags, ctl, err)
	}
	if _, err := Parse("t.pkt", "0 < icmp unreachable NOSUCHCODE\n"); err == nil || !strings.Contains(err.Error(), "-D") {
		t.Errorf("an unknown ICMP code: %v", err)
	}
}

// Fast Open options encode as RFC 7413 §4.1.1 (kind 34) and the
// experimental kind 254 with its magic (RFC 6994), and decode back.
func TestFastOpenOptionsRoundTrip(t *testing.T) {
	opts := []Option{{Kind: OptFastOpen, Cookie: []byte{1, 2, 3, 4}}, {Kind: OptFastOpenExp}, {Kind: OptNOP}, {Kind: OptNOP}}
	b, err := encodeOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 34 || b[1] != 6 || b[6] != 254 || b[7] != 4 || b[8] != 0xf9 || b[9] != 0x89 {
		t.Fatalf("encoded % x", b)
	}
	got, err := parseRawOptions(b)
	if err != nil || len(got) != 4 || got[0].Kind != OptFastOpen || string(got[0].Cookie) != "\x01\x02\x03\x04" || got[1].Kind != OptFastOpenExp {
		t.Fatalf("decoded %+v %v", got, err)
	}
	if optionString(got[0]) != "FO 01020304" || optionString(got[1]) != "FOEXP" {
		t.Errorf("%s, %s", optionString(got[0]), optionString(got[1]))
	}
}

// An ICMP line becomes an ICMP error quoting the stack's segment.
func TestEncodeICMPQuotesSegment(t *testing.T) {
	orig := &tcpPacket{Src: DefaultLocal4, Dst: DefaultRemote4, SrcPort: 8080, DstPort: 48000, Seq: 12345, Flags: wire.FlagACK, Payload: 100}
	b, err := encodeICMP(&ICMPSpec{Type: "unreachable", Code: "frag_needed", MTU: 1200}, DefaultRemote4, orig)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := wire.ParseIPv4(b)
	if err != nil || ip.Protocol() != wire.ProtoICMP || ip.Dst() != DefaultLocal4 {
		t.Fatalf("%v %v", ip, err)
	}
	m, err := wire.ParseICMPv4(ip.Payload())
	if err != nil || m.Type() != 3 || m.Code() != 4 || m.RestOfHeader() != 1200 || len(m.Body()) != 28 {
		t.Fatalf("icmp %v type %d code %d", err, m.Type(), m.Code())
	}
}

// The runner's Python: assertions, chained comparisons, assignments that
// last across blocks, print, and names it cannot bind.
func TestPythonBlocks(t *testing.T) {
	env := &pyEnv{vars: map[string]pyVal{}, backend: "test", info: map[string]int64{"tcpi_snd_cwnd": 10, "tcpi_options": 0x21, "tcpi_rtt": 25000}}
	for _, src := range []string{
		"assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd",
		"assert (tcpi_options & TCPI_OPT_SYN_DATA) != 0, tcpi_options",
		"assert 15000 <= tcpi_rtt <= 36000, 'rtt=%d' % tcpi_rtt",
		"cwnd = 10",
		"print(tcpi_snd_cwnd); cwnd += 0; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd",
		"assert tcpi_snd_cwnd == 10 and not tcpi_rtt < 0 or 1 // 0",
		"TCP_INFINITE_SSTHRESH = 0x7fffffff",
		"assert max(1, 2) - min(3, 4) == -1 and 7 % 3 == 1 and -7 // 2 == -4 and 1 << 4 == 16",
		"assert tcpi_rtt <= 36000, \\\n  tcpi_rtt",
	} {
		if err := runPython(src, env); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	if len(env.printed) != 1 || env.printed[0] != "10" {
		t.Errorf("printed %q", env.printed)
	}
	for src, want := range map[string]string{
		"assert tcpi_snd_cwnd == 11, 'cwnd=%d' % tcpi_snd_cwnd": "tcpi_snd_cwnd=10): cwnd=10",
		"assert 1 < tcpi_snd_cwnd < 5":                          "failed",
		"assert tcpi_lost == 0":                                 "test cannot evaluate tcpi_lost",
		"assert nosuchname == 1":                                "not defined",
		"import os":                                             "not defined",
	} {
		err := runPython(src, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

// Shell lines split into commands with quotes, $((...)), comments and
// redirections handled; a defaults.sh is read, through a link a checkout
// stored as text.
func TestShellLines(t *testing.T) {
	cmds, err := splitShell("sysctl -q a.b=\"1 2 $((3*4))\" > /dev/null 2>&1; x 'y z' # note\nsysctl \\\n c=1 && d")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cmds {
		got = append(got, strings.Join(c.words, ","))
	}
	if strings.Join(got, "|") != "sysctl,-q,a.b=1 2 12|x,y z|sysctl,c=1|d" {
		t.Errorf("commands %q", got)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "common"), 0o755)
	os.MkdirAll(filepath.Join(dir, "tcp", "common"), 0o755)
	os.WriteFile(filepath.Join(dir, "common", "defaults.sh"), []byte("#!/bin/bash\nsysctl -q net.ipv4.tcp_sack=1\nsysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\ntc qdisc add dev tun0 root pfifo\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "tcp", "common", "defaults.sh"), []byte("../../common/defaults.sh"), 0o444)
	set := map[string]string{}
	var notes []string
	h := shellHost{
		set:  func(k, v string) (bool, error) { set[k] = v; return true, nil },
		note: func(f string, a ...any) { notes = append(notes, f) },
	}
	if err := interpretShell("../common/defaults.sh", filepath.Join(dir, "tcp", "x"), h, 0); err != nil {
		t.Fatal(err)
	}
	if set["net.ipv4.tcp_sack"] != "1" || set["net.ipv4.tcp_rmem"] != "4096 540000 15728640" || len(notes) != 1 {
		t.Errorf("settings %v notes %q", set, notes)
	}
	if err := interpretShell("nstat > /dev/null", dir, h, 0); err == nil || !strings.Contains(err.Error(), "nstat") {
		t.Errorf("an unknown command on threeway: %v", err)
	}
}

// A corpus expectation line needs both statuses and, for a failure, its
// reason.
func TestParseCorpusExpect(t *testing.T) {
	e, err := parseCorpusExpect("tcp/a.pkt threeway=FAIL linux=PASS | threeway: CUBIC (another issue, i12-cc)")
	if err != nil || e.status["threeway"] != Fail || e.status["linux"] != Pass || !strings.HasPrefix(e.reason, "threeway: CUBIC") {
		t.Fatalf("%+v %v", e, err)
	}
	for _, bad := range []string{"tcp/a.pkt threeway=FAIL linux=PASS", "tcp/a.pkt threeway=PASS", "tcp/a.pkt threeway=OK linux=PASS"} {
		if _, err := parseCorpusExpect(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzPython feeds arbitrary text to the block evaluator: an error or a
// result, never a panic or a hang.
func FuzzPython(f *testing.F) {
	f.Add("assert 990 <= tcpi_last_data_recv <= 1010, tcpi_last_data_recv")
	f.Add("print(tcpi_snd_cwnd); cwnd += 10; assert tcpi_snd_cwnd == cwnd, 'x=%d' % (cwnd, 1)")
	f.Add("assert (tcpi_options & TCPI_OPT_SYN_DATA) != 0 or 1 // 0 and not 3")
	f.Fuzz(func(t *testing.T, src string) {
		env := &pyEnv{vars: map[string]pyVal{"cwnd": int64(1)}, info: map[string]int64{"tcpi_snd_cwnd": 10}}
		runPython(src, env)
	})
}

// FuzzShell feeds arbitrary shell lines to the splitter and interpreter.
func FuzzShell(f *testing.F) {
	f.Add("sysctl -q a=\"1 $((2*3))\" > /dev/null 2>&1; tc qdisc add dev tun0 root pfifo # c")
	f.Add("../common/set_sysctls.py /proc/sys/net/ipv4/tcp_fastopen=0x1 \\\n /proc/sys/x=2 && y || z")
	f.Fuzz(func(t *testing.T, line string) {
		h := shellHost{set: func(k, v string) (bool, error) { return true, nil }, note: func(string, ...any) {}}
		interpretShell(line, t.TempDir(), h, 3)
	})
}

// On the threeway backend, a script's poll, epoll, ioctl and %{ }%
// lines see the connection's state through tcp.Info.
func TestThreewayPollEpollInfo(t *testing.T) {
	s := mustParse(t, `// probe
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 epoll_create(1) = 5
+0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, fd=4}) = 0
+0 epoll_wait(5, {events=0, fd=0}, 1, 0) = 0
+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1
+0 < P. 1:101(100) ack 1 win 65535
+0 > . 1:1(0) ack 101
+0 epoll_wait(5, {events=EPOLLIN, fd=4}, 1, 0) = 1
+0 epoll_wait(5, {events=0, fd=0}, 1, 0) = 0
+0 ioctl(4, SIOCINQ, [100]) = 0
+0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_snd_mss == 1000, tcpi_snd_mss }%
+0 %{ assert tcpi_bytes_received == 100 and tcpi_unacked == 0 and 90000 <= tcpi_rtt <= 110000, tcpi_rtt }%
+0 send(4, ..., 500, MSG_EOR) = 500
+0 > P. 1:501(500) ack 101
+0 ioctl(4, SIOCOUTQ, [500]) = 0
+0 %{ assert tcpi_lost == 0 }%
`)
	res := Run(s, "threeway")
	if res.Status != Fail || res.Line != 24 || !strings.Contains(res.Msg, "threeway cannot evaluate tcpi_lost") {
		t.Fatalf("%s", res)
	}
}
