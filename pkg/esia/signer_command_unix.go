//go:build unix

package esia

import (
	"os/exec"
	"syscall"
)

// killProcessGroup runs cmd in a process group of its own and makes the
// time-out kill the whole group: a wrapper script's children (an openssl or
// csptest it started) die with it instead of living on.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group id is the leader's pid (Setpgid with Pgid 0).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
