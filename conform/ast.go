package conform

import (
	"time"

	"github.com/threeway-tcp/threeway/wire"
)

// Script is a parsed packetdrill script.
type Script struct {
	// Name is the script's name in reports: its path as given.
	Name string
	// Options are the --name=value flags at the top, in order.
	Options []Flag
	// Events are the timed lines, in order.
	Events []*Event
	// Notes are things the parser skipped (shell lines, code blocks).
	Notes []string
	// Cleanup is the untimed shell line after the last event
	// (packetdrill's cleanup command), or "".
	Cleanup string
	// Dir is the directory shell lines run in: the script's own, as
	// packetdrill's run_all.py runs them.
	Dir string
	// LinuxDiffers, if set, says why the Linux kernel is expected to
	// fail this script: it pins a behaviour (RFC 9293's, threeway's)
	// that Linux does not share. From a "// linux-differs: REASON"
	// comment.
	LinuxDiffers string
	// LinuxOnly, if set, makes the threeway backend skip the script
	// (it depends on something only the kernel has, such as a shell
	// line). From a "// linux-only: REASON" comment.
	LinuxOnly string
	// Rule is the script's first comment line: the rule it checks.
	Rule string
}

// Flag is one --name=value option line.
type Flag struct {
	Name, Value string
	Line        int
}

// TimeKind says how an event's time is written.
type TimeKind uint8

// Time kinds (packetdrill's event_time_t).
const (
	TimeAbsolute      TimeKind = iota // 0.100
	TimeRelative                      // +0.100
	TimeAny                           // *
	TimeAbsoluteRange                 // 0.1~0.3
	TimeRelativeRange                 // +0.1~+0.3
)

// Event is one timed line of a script.
type Event struct {
	Line    int
	Kind    TimeKind
	Time    time.Duration // start, or the range's low end
	TimeEnd time.Duration // the range's high end

	// Exactly one of these is set.
	Packet  *PacketSpec
	Syscall *SyscallSpec
	Command string // a backquoted shell line
	Code    string // a %{ }% block

	// LinuxSkip makes the Linux backend skip this line ("// linux-skip"
	// at its end).
	LinuxSkip bool
	// ThreewaySkip makes the threeway backend skip this line
	// ("// threeway-skip"): for a line that only the kernel's variant of
	// a behaviour produces.
	ThreewaySkip bool
	// Text is the line as written, for reports.
	Text string
}

// Direction is a packet line's direction.
type Direction uint8

// Directions: < injects a packet into the stack, > expects one from it.
const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "<"
	}
	return ">"
}

// PacketSpec is a TCP packet line.
type PacketSpec struct {
	Dir Direction
	// Conn selects the script connection (the "[conn N]" extension);
	// 0 means connection 1.
	Conn  int
	Flags wire.Flags
	// Seq is start:end(len); End-Start == Len.
	Start, End uint32
	Len        int
	HasAck     bool
	Ack        uint32
	HasWin     bool
	Win        uint16
	// Options: AnyOptions for <...>; otherwise HasOptions and the list
	// (an outbound packet with no option list must carry none).
	AnyOptions bool
	HasOptions bool
	Options    []Option
	// IP holds the IP header fields the line gives, if any.
	IP IPInfo
	// ICMP, if set, makes the line an ICMP packet rather than TCP (an
	// inbound ICMP error about the stack's segment Start:End).
	ICMP *ICMPSpec
}

// IPInfo is packetdrill's opt_ip_info: "(tos 0x.., ttl N)" or an ECN
// codepoint such as "[ect0]".
type IPInfo struct {
	HasECN    bool
	ECN       uint8 // the low two bits of the TOS/traffic class
	HasTOS    bool
	TOS       uint8
	HasTTL    bool
	TTL       uint8
	FlowLabel uint32
}

// ICMPSpec is an ICMP packet line: "icmp unreachable frag_needed mtu N
// [start:end(len)]".
type ICMPSpec struct {
	Type, Code string
	MTU        int
	// HasEchoed is set when the line names the TCP segment the error is
	// about; Start is its sequence number, relative to the stack's ISN.
	HasEchoed  bool
	Start, End uint32
}

// OptionKind is a TCP option kind as the script names it.
type OptionKind uint8

// Option kinds.
const (
	OptNOP    OptionKind = 1
	OptMSS    OptionKind = 2
	OptWScale OptionKind = 3
	OptSACKOK OptionKind = 4
	OptSACK   OptionKind = 5
	OptTS     OptionKind = 8
	OptMD5    OptionKind = 19
	// OptFastOpen is RFC 7413's option (kind 34); OptFastOpenExp the
	// experimental kind 254 with magic 0xF989 that Linux also speaks.
	OptFastOpen    OptionKind = 34
	OptFastOpenExp OptionKind = 254
	OptEOL         OptionKind = 0
	// OptOther is an option threeway does not name; Val holds its kind.
	OptOther OptionKind = 255
)

// Option is one TCP option.
type Option struct {
	Kind   OptionKind
	Val    uint32      // mss, wscale, TS val, or the kind of OptOther
	Ecr    uint32      // TS ecr
	Blocks [][2]uint32 // sack blocks, start:end
	// Cookie is a Fast Open cookie or an MD5 digest; nil with
	// AnyCookie unset means the option carries none.
	Cookie []byte
}

// SyscallSpec is a system call line.
type SyscallSpec struct {
	Name string
	Args []Expr
	// Result is the expected return value.
	Result Expr
	// Errno is the expected errno name (e.g. EINPROGRESS), or "".
	Errno string
	Note  string
	// Blocking is set by "...END": the call is expected to block and
	// return at End.
	Blocking bool
	End      time.Duration
}

// ExprKind is the kind of a syscall argument expression.
type ExprKind uint8

// Expression kinds.
const (
	ExprEllipsis ExprKind = iota // ...
	ExprInt                      // 3, -1, 0x10
	ExprWord                     // SOCK_STREAM
	ExprString                   // "192.0.2.1"
	ExprOr                       // a|b
	ExprArray                    // [1]
	ExprStruct                   // {onoff=1, linger=0}
	ExprCall                     // htons(8080)
)

// Expr is a syscall argument or result.
type Expr struct {
	Kind  ExprKind
	Int   int64
	Word  string // word, string, or the called function's name
	Elems []Expr // array elements, | operands, call arguments
	// Fields of a struct, in order.
	Fields []Field
}

// Field is one name=value of a struct expression.
type Field struct {
	Name  string
	Value Expr
	// Arg is a field name's argument: msg_iov(1)=... has Arg 1.
	Arg *Expr
}
