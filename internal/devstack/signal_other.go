//go:build !unix

package devstack

import "os/exec"

// setProcAttrs is a no-op where process groups are not available.
func setProcAttrs(*exec.Cmd) {}

// terminateGroup kills the child; there is no graceful signal to send here.
func terminateGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}

// killGroup kills the child.
func killGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
