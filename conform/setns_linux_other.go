//go:build linux && !amd64 && !386

package conform

import "syscall"

const sysSetns = syscall.SYS_SETNS
