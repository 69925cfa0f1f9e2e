package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// threewayBin is the threeway command built once for all tests.
var threewayBin string

// skipReason is why the tests cannot run here, or "".
var skipReason string

func TestMain(m *testing.M) {
	if mode := os.Getenv(peerEnv); mode != "" {
		// Re-executed inside a namespace as the kernel-side peer.
		os.Exit(runPeer(mode, os.Args[len(os.Args)-1]))
	}
	if mode := os.Getenv(forwardPeerEnv); mode != "" {
		os.Exit(runForwardPeer(mode, os.Args[len(os.Args)-1]))
	}
	skipReason = environmentProblem()
	code := 0
	if skipReason == "" {
		dir, err := os.MkdirTemp("", "threeway-interop")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		threewayBin = filepath.Join(dir, "threeway")
		build := exec.Command("go", "build", "-o", threewayBin, "github.com/threeway-tcp/threeway/cmd/threeway")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building threeway:", err)
			os.Exit(1)
		}
		code = m.Run()
		os.RemoveAll(dir)
	} else {
		code = m.Run()
	}
	os.Exit(code)
}

func environmentProblem() string {
	if os.Geteuid() != 0 {
		return "interop tests need root (network namespaces and TUN devices); CI runs them as root"
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return "no /dev/net/tun on this machine"
	}
	for _, tool := range []string{"ip", "curl", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (scripts/test.sh installs it as root)"
		}
	}
	return ""
}

func needEnv(t testing.TB) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}
