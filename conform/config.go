package conform

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Config is what a script's --flags (and the runner) set.
type Config struct {
	IPv6     bool
	LocalIP  netip.Addr // the stack under test
	RemoteIP netip.Addr // the script's side
	// BindPort is the port bind(fd, ..., ...) binds; ConnectPort the one
	// connect(fd, ..., ...) connects to (packetdrill: 8080 for both).
	BindPort, ConnectPort uint16
	// MTU of the stack's link (--mtu, 1500).
	MTU int
	// MSS is packetdrill's --mss: the segment size an inbound packet
	// larger than the MTU is cut into (the gso_size of a GRO packet);
	// 0 means the MTU less the IP and TCP headers.
	MSS int
	// StrictEnd fails a run when the stack sends a packet after the
	// script's last line. packetdrill does not check those; the
	// project's own scripts are run with it.
	StrictEnd bool
	// Offloads gives the stack's link TSO and GRO, as packetdrill's TUN
	// device has: the stack may send segments larger than the MSS and
	// an inbound packet larger than the MTU arrives whole, with its
	// segment size (a GRO packet).
	Offloads bool
	// Tolerance is the timing slack (packetdrill's --tolerance_usecs,
	// 4 ms), widened by TolerancePercent of the time since the previous
	// event (--tolerance_percent, 12.5).
	Tolerance        time.Duration
	TolerancePercent float64
	// StrictOptions compares TCP options in order, NOPs included;
	// otherwise they compare as a set (--strict_options).
	StrictOptions bool
	// IgnorePSH leaves the PSH bit of outbound packets unchecked
	// (--ignore_psh, this runner's extension): stacks differ in which
	// segments of a large write they push.
	IgnorePSH bool
	// Sysctls are kernel settings the script asked for with backquoted
	// `sysctl` lines at time 0, by name (net.ipv4.tcp_syn_retries).
	Sysctls map[string]string
}

// Packetdrill's default addresses.
var (
	DefaultLocal4  = netip.MustParseAddr("192.168.0.1")
	DefaultRemote4 = netip.MustParseAddr("192.0.2.1")
	DefaultLocal6  = netip.MustParseAddr("fd3d:a0b:17d6::1")
	DefaultRemote6 = netip.MustParseAddr("fd3d:fa7b:d17d::1")
)

// remotePortBase is the script side's port for connection 1 of a
// passive open; connection N uses remotePortBase+N-1.
const remotePortBase = 48000

// config builds the Config from the script's flags.
func (s *Script) config() (*Config, error) {
	c := &Config{
		BindPort: 8080, ConnectPort: 8080, MTU: 1500,
		Tolerance: 4 * time.Millisecond, TolerancePercent: 12.5,
		Sysctls: map[string]string{},
	}
	var local, remote string
	mss := 0
	for _, f := range s.Options {
		bad := func() error { return fmt.Errorf("line %d: bad --%s=%s", f.Line, f.Name, f.Value) }
		num := func() (int, error) {
			n, err := strconv.Atoi(f.Value)
			if err != nil || n < 0 {
				return 0, bad()
			}
			return n, nil
		}
		var err error
		switch f.Name {
		case "ip_version":
			switch f.Value {
			case "ipv4":
			case "ipv6":
				c.IPv6 = true
			default:
				return nil, bad()
			}
		case "local_ip":
			local = f.Value
		case "remote_ip":
			remote = f.Value
		case "bind_port", "connect_port":
			n, err := num()
			if err != nil || n == 0 || n > 65535 {
				return nil, bad()
			}
			if f.Name == "bind_port" {
				c.BindPort = uint16(n)
			} else {
				c.ConnectPort = uint16(n)
			}
		case "mss":
			if mss, err = num(); err != nil || mss < 88 || mss > 65000 {
				return nil, bad()
			}
		case "mtu":
			if c.MTU, err = num(); err != nil || c.MTU < 576 || c.MTU > 65535 {
				return nil, bad()
			}
		case "tolerance_usecs":
			n, err := num()
			if err != nil {
				return nil, err
			}
			c.Tolerance = time.Duration(n) * time.Microsecond
		case "tolerance_percent":
			v, err := strconv.ParseFloat(f.Value, 64)
			if err != nil || v < 0 {
				return nil, bad()
			}
			c.TolerancePercent = v
		case "ignore_psh":
			c.IgnorePSH = f.Value == "" || f.Value == "1" || f.Value == "true"
		case "tcp_ts_tick_usecs", "tcp_ts_ecr_scaled", "strict_segments", "init_scripts":
			// TS val is not compared and inbound TS ecr is mapped to
			// what the stack sent, so the TS clock's tick needs no
			// setting; outbound segments are always matched one to one.
		case "strict_options":
			c.StrictOptions = f.Value == "" || f.Value == "1" || f.Value == "true"
		default:
			return nil, fmt.Errorf("line %d: unknown flag --%s", f.Line, f.Name)
		}
	}
	c.LocalIP, c.RemoteIP = DefaultLocal4, DefaultRemote4
	if c.IPv6 {
		c.LocalIP, c.RemoteIP = DefaultLocal6, DefaultRemote6
	}
	for _, a := range []struct {
		s   string
		dst *netip.Addr
	}{{local, &c.LocalIP}, {remote, &c.RemoteIP}} {
		if a.s == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.s)
		if err != nil || ip.Is4() == c.IPv6 {
			return nil, fmt.Errorf("bad address %q for this --ip_version", a.s)
		}
		*a.dst = ip
	}
	c.MSS = mss
	return c, nil
}

// segmentSize is the payload an inbound packet larger than the MTU is
// cut into.
func (c *Config) segmentSize() int {
	if c.MSS > 0 {
		return c.MSS
	}
	return c.MTU - c.headerLen()
}

// headerLen is the IP plus TCP header length the MSS leaves out.
func (c *Config) headerLen() int {
	if c.IPv6 {
		return 60
	}
	return 40
}

// tolerance returns the slack for an event delta after the previous one.
func (c *Config) tolerance(delta time.Duration) time.Duration {
	t := c.Tolerance
	if d := time.Duration(float64(delta) * c.TolerancePercent / 100); d > t {
		t = d
	}
	return t
}
