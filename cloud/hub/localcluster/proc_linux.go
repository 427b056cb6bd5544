package localcluster

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel SIGKILL the node process when the parent
// dies, so a crashed test leaves no node behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
