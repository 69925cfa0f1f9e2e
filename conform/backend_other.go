//go:build !linux

package conform

import "errors"

// LinuxAvailable reports why the Linux backend cannot run here: it needs
// Linux.
func LinuxAvailable() error {
	return errors.New("the linux backend runs only on Linux")
}

func newLinuxBackend() backend { return nil }
