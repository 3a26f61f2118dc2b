//go:build linux

package redistest

import "syscall"

// sysProcAttr makes the kernel kill the child when the test binary dies, so
// no server outlives a crashed or interrupted test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
