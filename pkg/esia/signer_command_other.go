//go:build !unix

package esia

import "os/exec"

// killProcessGroup leaves the default: the time-out kills the program
// itself; cmd.WaitDelay bounds the wait for any child it left behind.
func killProcessGroup(*exec.Cmd) {}
