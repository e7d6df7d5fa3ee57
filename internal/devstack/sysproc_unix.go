//go:build unix && !linux

package devstack

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the child in its own process group. Parent-death signals
// are a Linux feature; elsewhere servers are only stopped by Stop.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
