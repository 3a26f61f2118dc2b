//go:build !linux

package redistest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; t.Cleanup stops the
// child instead.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
