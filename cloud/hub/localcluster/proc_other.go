//go:build !linux

package localcluster

import "os/exec"

// dieWithParent: only Linux can tie a child's life to its parent's; here
// Cluster.Shutdown (in the tests' cleanup) ends the nodes.
func dieWithParent(*exec.Cmd) {}
