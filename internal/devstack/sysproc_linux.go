//go:build linux

package devstack

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the child in its own process group and asks the kernel to
// SIGKILL it when the parent goes away, so a crashed or killed LabelFlow
// process never leaves orphaned servers behind.
//
// Pdeathsig fires when the OS thread that forked the child exits. The Go
// runtime only retires threads of goroutines that exit while locked to their
// thread, which this package never does.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
}
