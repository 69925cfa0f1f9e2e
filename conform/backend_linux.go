//go:build linux

package conform

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/link/tun"
)

// The Linux backend runs a script against the kernel's TCP, as
// packetdrill does: in a network namespace made for the run, a TUN
// device carries the injected and expected packets, and real sockets
// make the system calls, in real time. The namespace is entered on one
// locked OS thread, which opens the TUN device and creates every socket;
// a socket's namespace is fixed when it is made, so the other calls run
// from any thread.

// tunName is the TUN device in every namespace.
const tunName = "tun0"

// linuxSysctls are set in every namespace before a script runs, so the
// kernel starts where threeway does where a setting is only a tunable:
// buffers whose largest size is threeway's 256 KiB (so the kernel offers
// the same window scale, 3), and no rate limit on the ACKs that answer
// out-of-window segments (RFC 9293 §3.10.7.4 sends one each time; Linux
// by default sends at most one per 500 ms, tcp_invalid_ratelimit).
var linuxSysctls = [][2]string{
	{"net.ipv4.tcp_rmem", "4096 131072 262144"},
	{"net.ipv4.tcp_wmem", "4096 16384 262144"},
	{"net.ipv4.tcp_invalid_ratelimit", "0"},
	{"net.ipv4.tcp_challenge_ack_limit", "1000"},
	{"net.ipv4.tcp_ecn", "0"},
	{"net.ipv4.tcp_fastopen", "0"},
	{"net.ipv4.tcp_no_metrics_save", "1"},
	{"net.ipv6.conf.all.disable_ipv6", "0"},
	{"net.ipv6.conf.default.accept_dad", "0"},
	{"net.ipv6.conf.default.router_solicitations", "0"},
}

// LinuxAvailable reports why the Linux backend cannot run here, or nil.
func LinuxAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("the linux backend needs root (network namespaces and TUN devices)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("the linux backend needs /dev/net/tun")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the linux backend needs ip (iproute2)")
	}
	return nil
}

var nsSeq atomic.Int32

type linuxBackend struct {
	cfg    *Config
	ns     string
	thread chan func() // runs functions on the namespace's thread
	quit   chan struct{}
	dev    *tun.Device
	// epoch is time 0; the reader reads it while restartClock moves it.
	epoch  atomic.Pointer[time.Time]
	socks  []*linuxSock
	epolls []*linuxEpoll
	// cc is the congestion control every socket is given, when the
	// namespace cannot default to it.
	cc string

	mu   sync.Mutex
	out  []sentPacket
	wake chan struct{}
	rdWG sync.WaitGroup
}

func newLinuxBackend() backend { return &linuxBackend{} }

func (b *linuxBackend) name() string { return "linux" }

// inNS runs f on the namespace's locked thread.
func (b *linuxBackend) inNS(f func() error) error {
	done := make(chan error, 1)
	select {
	case b.thread <- func() { done <- f() }:
	case <-b.quit:
		return errors.New("namespace thread stopped")
	}
	return <-done
}

func (b *linuxBackend) start(cfg *Config) error {
	b.cfg = cfg
	b.ns = fmt.Sprintf("twconform%d-%d", os.Getpid(), nsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", b.ns).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	b.thread = make(chan func())
	b.quit = make(chan struct{})
	b.wake = make(chan struct{}, 1)
	ready := make(chan error, 1)
	go b.nsThread(ready)
	if err := <-ready; err != nil {
		b.close()
		return err
	}
	err := b.inNS(func() error {
		for _, kv := range linuxSysctls {
			if err := writeSysctl(kv[0], kv[1]); err != nil {
				return err
			}
		}
		d, err := tun.OpenOptions(tunName, tun.Options{MTU: cfg.MTU, VnetHdr: cfg.Offloads})
		if err != nil {
			return err
		}
		if cfg.Offloads && !d.Offloads().TSO4 {
			d.Close()
			return errors.New("the TUN device refused TSO (IFF_VNET_HDR, TUNSETOFFLOAD)")
		}
		b.dev = d
		return nil
	})
	if err != nil {
		b.close()
		return err
	}
	local6 := DefaultLocal6
	remote6 := DefaultRemote6
	local4, remote4 := DefaultLocal4, DefaultRemote4
	if cfg.IPv6 {
		local6, remote6 = cfg.LocalIP, cfg.RemoteIP
	} else {
		local4, remote4 = cfg.LocalIP, cfg.RemoteIP
	}
	batch := strings.Join([]string{
		fmt.Sprintf("link set dev %s mtu %d", tunName, cfg.MTU),
		fmt.Sprintf("addr add %s/16 dev %s", local4, tunName),
		fmt.Sprintf("addr add %s/48 dev %s nodad", local6, tunName),
		fmt.Sprintf("link set dev %s up", tunName),
		"link set dev lo up",
		fmt.Sprintf("route add %s/32 dev %s", remote4, tunName),
		fmt.Sprintf("route add %s/128 dev %s", remote6, tunName),
	}, "\n") + "\n"
	cmd := exec.Command("ip", "-n", b.ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(batch)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.close()
		return fmt.Errorf("configuring %s in %s: %v: %s", tunName, b.ns, err, out)
	}
	b.restartClock()
	b.rdWG.Add(1)
	go b.reader()
	return nil
}

// nsThread locks itself to an OS thread, enters the namespace and serves
// inNS calls. It never unlocks: when it returns, the runtime retires the
// thread instead of reusing one that sits in another namespace.
func (b *linuxBackend) nsThread(ready chan<- error) {
	runtime.LockOSThread()
	fd, err := syscall.Open(filepath.Join("/var/run/netns", b.ns), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		ready <- fmt.Errorf("opening namespace %s: %w", b.ns, err)
		return
	}
	_, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
	syscall.Close(fd)
	if e != 0 {
		ready <- fmt.Errorf("setns %s: %w", b.ns, e)
		return
	}
	ready <- nil
	for {
		select {
		case f := <-b.thread:
			f()
		case <-b.quit:
			return
		}
	}
}

// writeSysctl sets a namespace-local setting through /proc/sys, which
// the calling thread's network namespace selects.
func writeSysctl(name, value string) error {
	path := filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", name, value, err)
	}
	return nil
}

// reader copies the packets the kernel sends into the TUN device.
func (b *linuxBackend) reader() {
	defer b.rdWG.Done()
	bufs := make([][]byte, 16)
	for i := range bufs {
		bufs[i] = make([]byte, 65536)
	}
	sizes := make([]int, len(bufs))
	for {
		n, err := b.dev.ReadPackets(bufs, sizes)
		if err != nil {
			return
		}
		at := b.now()
		b.mu.Lock()
		for i := 0; i < n; i++ {
			b.out = append(b.out, sentPacket{data: append([]byte(nil), bufs[i][:sizes[i]]...), at: at})
		}
		b.mu.Unlock()
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

func (b *linuxBackend) close() {
	for _, e := range b.epolls {
		e.close()
	}
	for _, s := range b.socks {
		if s.blocked.Load() > 0 {
			// Wake a send still blocked at the end of the script.
			syscall.Shutdown(s.fd, syscall.SHUT_RDWR)
		}
		s.close()
	}
	if b.dev != nil {
		b.dev.Close()
		b.rdWG.Wait()
	}
	if b.quit != nil {
		close(b.quit)
	}
	exec.Command("ip", "netns", "del", b.ns).Run()
}

func (b *linuxBackend) now() time.Duration { return time.Since(*b.epoch.Load()) }

func (b *linuxBackend) step(until time.Duration) {
	d := until - b.now()
	if d <= 0 {
		return
	}
	t := time.NewTimer(min(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.wake:
	}
}

func (b *linuxBackend) settle() {}

func (b *linuxBackend) sent() []sentPacket {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.out
	b.out = nil
	return out
}

func (b *linuxBackend) inject(pkt []byte, gsoSize int) error {
	if gsoSize > 0 {
		return b.dev.WritePacketsInfo([][]byte{pkt}, []link.PacketInfo{{GSOSize: uint16(gsoSize)}})
	}
	return b.dev.WritePackets([][]byte{pkt})
}

func (b *linuxBackend) grace() time.Duration        { return 20 * time.Millisecond }
func (b *linuxBackend) minTolerance() time.Duration { return 25 * time.Millisecond }
func (b *linuxBackend) maxWait() time.Duration      { return 5 * time.Second }

func (b *linuxBackend) restartClock() {
	now := time.Now()
	b.epoch.Store(&now)
}

// shell runs a shell line in the namespace, from the script's
// directory, as packetdrill does. Settings (sysctl, set_sysctls.py, the
// lines of defaults.sh) are written to /proc/sys from the namespace's
// thread, which is what those commands do, without a process each;
// every other command runs with sh in the namespace, PACKETDRILL_PID
// naming this process.
func (b *linuxBackend) shell(line, dir string, note func(string, ...any)) error {
	return interpretShell(line, dir, shellHost{
		set: func(name, value string) (bool, error) {
			err := b.inNS(func() error { return writeSysctl(name, value) })
			if name == "net.ipv4.tcp_congestion_control" && errors.Is(err, syscall.EPERM) {
				// A namespace may only default to an algorithm of the
				// host's tcp_allowed_congestion_control; root may still
				// choose any per socket, so every socket gets it.
				b.cc = strings.TrimSpace(value)
				note("sysctl %s=%s: not allowed as a namespace's default; set on each socket with TCP_CONGESTION", name, value)
				return true, nil
			}
			if errors.Is(err, os.ErrNotExist) {
				note("sysctl %s: this kernel has no such setting", name)
				return true, nil
			}
			return true, err
		},
		other: func(c shellCommand) error { return b.sh(resolveLinksInLine(c.text, dir), dir, note) },
		note:  note,
	}, 0)
}

func (b *linuxBackend) sh(line, dir string, note func(string, ...any)) error {
	cmd := exec.Command("ip", "netns", "exec", b.ns, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("PACKETDRILL_PID=%d", os.Getpid()))
	out, err := cmd.CombinedOutput()
	if len(out) > 0 {
		note("shell output: %s", strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("%q: %v: %s", line, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (b *linuxBackend) socket(v6 bool, typ, proto int) (sock, error) {
	domain := syscall.AF_INET
	if v6 {
		domain = syscall.AF_INET6
	}
	var fd int
	err := b.inNS(func() error {
		var err error
		fd, err = syscall.Socket(domain, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, proto)
		if err == nil && b.cc != "" && typ&0xf == syscall.SOCK_STREAM {
			if err = syscall.SetsockoptString(fd, syscall.IPPROTO_TCP, unix.TCP_CONGESTION, b.cc); err != nil {
				syscall.Close(fd)
				err = fmt.Errorf("TCP_CONGESTION %s: %w", b.cc, err)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &linuxSock{b: b, fd: fd, v6: v6}
	b.socks = append(b.socks, s)
	return s, nil
}

// linuxSock is a kernel socket, always non-blocking underneath.
type linuxSock struct {
	b      *linuxBackend
	fd     int
	v6     bool
	closed bool
	// blocked counts blocking sends in progress (sendBlocking).
	blocked atomic.Int32
}

func sockaddr(ap netip.AddrPort) syscall.Sockaddr {
	if ap.Addr().Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func (s *linuxSock) bind(ap netip.AddrPort) error { return syscall.Bind(s.fd, sockaddr(ap)) }

func (s *linuxSock) listen(backlog int) error { return syscall.Listen(s.fd, backlog) }

func (s *linuxSock) accept() (sock, error) {
	nfd, _, err := syscall.Accept4(s.fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	if err != nil {
		return nil, err
	}
	c := &linuxSock{b: s.b, fd: nfd, v6: s.v6}
	s.b.socks = append(s.b.socks, c)
	return c, nil
}

func (s *linuxSock) connect(ap netip.AddrPort) error { return syscall.Connect(s.fd, sockaddr(ap)) }

func (s *linuxSock) connectDone() (bool, error) {
	if _, err := syscall.Getpeername(s.fd); err == nil {
		return true, nil
	}
	v, err := syscall.GetsockoptInt(s.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return true, err
	}
	if v != 0 {
		return true, syscall.Errno(v)
	}
	return false, nil
}

func (s *linuxSock) write(n int) (int, error) {
	if n > len(zeros) {
		n = len(zeros)
	}
	return syscall.SendmsgN(s.fd, zeros[:n], nil, nil, syscall.MSG_NOSIGNAL|syscall.MSG_DONTWAIT)
}

func (s *linuxSock) read(n int) (int, error) {
	buf := make([]byte, n)
	k, err := syscall.Read(s.fd, buf)
	if err != nil {
		return 0, err
	}
	return k, nil
}

func (s *linuxSock) shutdown(how int) error { return syscall.Shutdown(s.fd, how) }

func (s *linuxSock) close() error {
	if s.closed {
		return syscall.EBADF
	}
	s.closed = true
	return syscall.Close(s.fd)
}

func (s *linuxSock) setsockopt(level, name int, v sockVal) error {
	if v.IsStr {
		return syscall.SetsockoptString(s.fd, level, name, v.Str)
	}
	if v.IsLinger {
		return syscall.SetsockoptLinger(s.fd, level, name, &syscall.Linger{Onoff: int32(v.OnOff), Linger: int32(v.Seconds)})
	}
	return syscall.SetsockoptInt(s.fd, level, name, v.Int)
}

func (s *linuxSock) getsockopt(level, name int) (sockVal, error) {
	if level == solSocket && name == soLinger {
		l, err := getsockoptLinger(s.fd)
		return sockVal{IsLinger: true, OnOff: int(l.Onoff), Seconds: int(l.Linger)}, err
	}
	v, err := syscall.GetsockoptInt(s.fd, level, name)
	return sockVal{Int: v}, err
}

func getsockoptLinger(fd int) (syscall.Linger, error) {
	var l syscall.Linger
	n := uint32(unsafe.Sizeof(l))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return l, e
	}
	return l, nil
}
