package conform

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/threeway-tcp/threeway/wire"
)

// outPacket builds what a stack might send, for the matcher.
func outPacket(flags wire.Flags, seq, ack uint32, n int, opts ...Option) *tcpPacket {
	return &tcpPacket{
		Src: DefaultLocal4, Dst: DefaultRemote4, SrcPort: 8080, DstPort: 48000,
		Seq: seq, Ack: ack, Flags: flags, Window: 502, Payload: n, Options: opts,
	}
}

func TestMismatchMessage(t *testing.T) {
	s := mustParse(t, "0 > P. 1:101(100) ack 1 <nop,nop,TS val 5 ecr 9>\n")
	ps := s.Events[0].Packet
	m := seqMap{stackISN: 1000, stackKnown: true, remoteISN: 0, remoteKnown: true}
	got := outPacket(wire.FlagACK, 1011, 1, 90, Option{Kind: OptNOP}, Option{Kind: OptNOP}, Option{Kind: OptTS, Val: 77, Ecr: 8})
	diffs := matchOutbound(ps, got, &m, false, false)
	msg := strings.Join(diffs, "; ")
	for _, want := range []string{"flags ., not P.", "seq 11, not 1", "90 bytes of data, not 100", "options <nop,nop,TS val 77 ecr 8>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("diffs %q lack %q", msg, want)
		}
	}
	if g := gotString(got, &m); g != "> . 11:101(90) ack 1 win 502 <nop,nop,TS val 77 ecr 8>" {
		t.Errorf("got rendered as %q", g)
	}
	// A match records the TS val for later inbound ecr.
	ok := outPacket(wire.FlagACK|wire.FlagPSH, 1001, 1, 100, Option{Kind: OptTS, Val: 4242, Ecr: 9})
	if d := matchOutbound(ps, ok, &m, false, false); len(d) != 0 {
		t.Fatalf("unexpected diffs %v", d)
	}
	if m.inboundEcr(5) != 4242 {
		t.Errorf("TS val not learned")
	}
	// --ignore_psh.
	nopsh := outPacket(wire.FlagACK, 1001, 1, 100, Option{Kind: OptTS, Val: 1, Ecr: 9})
	if d := matchOutbound(ps, nopsh, &m, false, true); len(d) != 0 {
		t.Errorf("PSH not ignored: %v", d)
	}
}

func TestRunnerReportsLineAndDecodedPacket(t *testing.T) {
	s := mustParse(t, `// probe
0   < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+0  < . 1:1(0) ack 1 win 65535
+0  > . 1:1(0) ack 1
`)
	res := Run(s, "threeway")
	if res.Status != Fail || res.Line != 3 {
		t.Fatalf("status %s line %d: %s", res.Status, res.Line, res.Msg)
	}
	want := "line 3: expected `> S. 0:0(0) ack 1 <mss 1460>`, got `> R. 0:0(0) ack 1 win 0` (flags R., not S.; options <>, not <mss 1460>)"
	if res.Msg != want {
		t.Errorf("message\n got: %s\nwant: %s", res.Msg, want)
	}
	if res.String() != "FAIL test.pkt: "+want {
		t.Errorf("report line %q", res.String())
	}
}

func TestRunnerTimingAndSyscallMessages(t *testing.T) {
	s := mustParse(t, `// probe
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0   connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0   > S 0:0(0) <...>
+0.5 > S 0:0(0) <...>
`)
	res := Run(s, "threeway")
	if res.Status != Fail || res.Line != 6 || !strings.Contains(res.Msg, "timing: expected `> S 0:0(0) <...>` at 0.500000s (tolerance 62.5ms), got it at 1.000000s") {
		t.Fatalf("%s", res)
	}
	s = mustParse(t, `// probe
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0   connect(3, ..., ...) = 0
`)
	res = Run(s, "threeway")
	if res.Line != 4 || !strings.Contains(res.Msg, "expected `connect(3, ..., ...) = 0`, got = -1 EINPROGRESS") {
		t.Fatalf("%s", res)
	}
	s = mustParse(t, `// probe
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   accept(3, ..., ...) = 4
`)
	res = Run(s, "threeway")
	if res.Line != 5 || !strings.Contains(res.Msg, "would block") {
		t.Fatalf("%s", res)
	}
	// A packet nobody expected, after the last line.
	s = mustParse(t, `// probe
0   < S 0:0(0) win 65535 <mss 1460>
`)
	if res = Run(s, "threeway"); res.Status != Pass {
		t.Fatalf("packetdrill leaves packets after the last line unchecked: %s", res)
	}
	res = RunWith(s, "threeway", RunOptions{StrictEnd: true})
	if res.Status != Fail || !strings.Contains(res.Msg, "after the last line the stack sent `> R. 0:0(0) ack 1 win 0`") {
		t.Fatalf("%s", res)
	}
}

func TestEncodeDecodePacket(t *testing.T) {
	for _, ip := range [][2]netip.Addr{{DefaultRemote4, DefaultLocal4}, {DefaultRemote6, DefaultLocal6}} {
		p := &tcpPacket{Src: ip[0], Dst: ip[1], SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4,
			Flags: wire.FlagSYN | wire.FlagACK, Window: 5, Payload: 6,
			Options: []Option{{Kind: OptMSS, Val: 1460}, {Kind: OptSACK, Blocks: [][2]uint32{{1, 2}}}}}
		b, err := encodePacket(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := decodePacket(b)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := wire.ParseTCP(b[len(b)-6-20-16:])
		if !wire.VerifyTCPChecksum(ip[0], ip[1], h) {
			t.Error("bad checksum")
		}
		if q.Seq != 3 || q.Ack != 4 || q.Flags != p.Flags || q.Window != 5 || q.Payload != 6 || optionsString(q.Options) != "<mss 1460,sack 1:2,eol,>" && optionsString(q.Options) != "<mss 1460,sack 1:2,eol>" {
			t.Errorf("decoded %+v %s", q, optionsString(q.Options))
		}
	}
}
