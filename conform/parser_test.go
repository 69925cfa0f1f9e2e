package conform

import (
	"strings"
	"testing"
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse("test.pkt", src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func TestLexNumbersAndEllipsis(t *testing.T) {
	toks, _, err := lex("+0...0.1 +.5 -1 0x1f S. 1:2(1) ... //c\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.text)
	}
	want := []string{"+", "0", "...", "0.1", "+", ".5", "-1", "0x1f", "S", ".", "1", ":", "2", "(", "1", ")", "...", ""}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("tokens %q, want %q", got, want)
	}
}

func TestParseTimes(t *testing.T) {
	s := mustParse(t, `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.25 close(3) = 0
1.5~2 > S 0:0(0)
+0.1~+0.3 > . 1:1(0) ack 1
* > . 1:1(0) ack 1
+0...0.2 accept(3, ..., ...) = 4
`)
	want := []struct {
		kind     TimeKind
		at, end  time.Duration
		blocking bool
	}{
		{TimeAbsolute, 0, 0, false},
		{TimeRelative, 250 * time.Millisecond, 0, false},
		{TimeAbsoluteRange, 1500 * time.Millisecond, 2 * time.Second, false},
		{TimeRelativeRange, 100 * time.Millisecond, 300 * time.Millisecond, false},
		{TimeAny, 0, 0, false},
		{TimeRelative, 0, 0, true},
	}
	if len(s.Events) != len(want) {
		t.Fatalf("%d events, want %d", len(s.Events), len(want))
	}
	for i, w := range want {
		ev := s.Events[i]
		if ev.Kind != w.kind || ev.Time != w.at || ev.TimeEnd != w.end {
			t.Errorf("event %d: kind %d at %v~%v, want %d at %v~%v", i, ev.Kind, ev.Time, ev.TimeEnd, w.kind, w.at, w.end)
		}
		if w.blocking && (ev.Syscall == nil || !ev.Syscall.Blocking || ev.Syscall.End != 200*time.Millisecond) {
			t.Errorf("event %d: not a blocking call ending at 0.2: %+v", i, ev.Syscall)
		}
	}
}

func TestParsePacket(t *testing.T) {
	s := mustParse(t, `0 < [conn 2] P. 1:1001(1000) ack 5 win 257 <nop,nop,TS val 100 ecr 7,sack 1:2 3:4>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,nop,wscale 7,eol>
+0 > R 1:1(0) <...>
+0 > - 0:0(0)
`)
	p := s.Events[0].Packet
	if p.Dir != Inbound || p.Conn != 2 || p.Flags != wire.FlagPSH|wire.FlagACK ||
		p.Start != 1 || p.End != 1001 || p.Len != 1000 || !p.HasAck || p.Ack != 5 || !p.HasWin || p.Win != 257 {
		t.Fatalf("packet 0: %+v", p)
	}
	if len(p.Options) != 4 || p.Options[2].Kind != OptTS || p.Options[2].Val != 100 || p.Options[2].Ecr != 7 ||
		p.Options[3].Kind != OptSACK || len(p.Options[3].Blocks) != 2 || p.Options[3].Blocks[1] != [2]uint32{3, 4} {
		t.Fatalf("packet 0 options: %+v", p.Options)
	}
	if got := specString(s.Events[1].Packet); got != "> S. 0:0(0) ack 1 <mss 1460,sackOK,nop,wscale 7,eol>" {
		t.Errorf("packet 1 renders as %q", got)
	}
	if p := s.Events[2].Packet; !p.AnyOptions || p.Flags != wire.FlagRST {
		t.Errorf("packet 2: %+v", p)
	}
	if p := s.Events[3].Packet; p.Flags != 0 {
		t.Errorf("packet 3 flags %v", p.Flags)
	}
}

func TestParseSyscalls(t *testing.T) {
	s := mustParse(t, `0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 bind(3, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr("192.168.0.1")}, 16) = 0
`)
	sc := s.Events[0].Syscall
	v, err := sockValue(sc.Args[3])
	if err != nil || !v.IsLinger || v.OnOff != 1 || v.Seconds != 0 {
		t.Fatalf("linger value %+v, %v", v, err)
	}
	sc = s.Events[1].Syscall
	if sc.Errno != "EINPROGRESS" || sc.Note != "Operation now in progress" || sc.Result.Int != -1 {
		t.Fatalf("connect: %+v", sc)
	}
	flags, err := evalInt(s.Events[2].Syscall.Args[2])
	if err != nil || flags != 2|0x800 {
		t.Fatalf("fcntl flags %#x, %v", flags, err)
	}
	r := &runner{cfg: &Config{}}
	ap, err := r.addr(s.Events[3], s.Events[3].Syscall.Args[1], netipAP("10.0.0.1:1"))
	if err != nil || ap.String() != "192.168.0.1:9000" {
		t.Fatalf("sockaddr %v, %v", ap, err)
	}
}

func TestParseFlagsCommandsAndMarkers(t *testing.T) {
	s := mustParse(t, `// RFC 9293 §3.10.7.2: the rule.
// linux-differs: Linux does
// something else here.
--tolerance_usecs=10000
--mss=1000
--ip_version=ipv6
`+"`sysctl -q net.ipv4.tcp_syn_retries=2; echo hi`"+`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // linux-skip
+0 close(3) = 0 // threeway-skip
+0 %{ print("x") }%
+0 close(3) = 0
`)
	if s.Rule != "RFC 9293 §3.10.7.2: the rule." {
		t.Errorf("rule %q", s.Rule)
	}
	if s.LinuxDiffers != "Linux does something else here." {
		t.Errorf("linux-differs %q", s.LinuxDiffers)
	}
	if !s.Events[1].LinuxSkip || !s.Events[2].ThreewaySkip || s.Events[1].ThreewaySkip {
		t.Errorf("skip markers wrong")
	}
	if s.Events[0].Command == "" || s.Events[3].Code == "" {
		t.Errorf("command or code block lost")
	}
	cfg, err := s.config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tolerance != 10*time.Millisecond || cfg.MTU != 1500 || cfg.MSS != 1000 || !cfg.IPv6 || cfg.LocalIP != DefaultLocal6 {
		t.Errorf("config %+v", cfg)
	}
	var set [][2]string
	err = interpretShell(s.Events[0].Command, ".", shellHost{set: func(k, v string) (bool, error) {
		set = append(set, [2]string{k, v})
		return true, nil
	}, note: t.Logf}, 0)
	if len(set) != 1 || set[0] != [2]string{"net.ipv4.tcp_syn_retries", "2"} || err == nil || !strings.Contains(err.Error(), "echo hi") {
		t.Errorf("sysctls %v, err %v", set, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"0 > S 0:5(0)",           // range does not match length
		"0 > S. 0:0(0) ack",      // ack without number
		"0 > Q 0:0(0)",           // unknown flag
		"0 < S 0:0(0) <mss>",     // option without value
		"* close(3) = 0",         // any-time syscall
		"0 frob",                 // not an event
		"0 > S 0:0(0) <bogus 1>", // unknown option
		"--nonsense=1\n0 close(3) = 0",
	} {
		s, err := Parse("bad.pkt", src)
		if err == nil {
			_, err = s.config()
		}
		if err == nil {
			t.Errorf("%q parsed without error", src)
		}
	}
}
