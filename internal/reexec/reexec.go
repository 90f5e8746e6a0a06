// Package reexec lets a test binary re-execute itself in another role
// chosen by argv[0], the way Docker's pkg/reexec does: a TestMain that
// registers roles calls Init first. (The shim and the container init need
// none of it: they run from their own packages' init functions.)
package reexec

import (
	"fmt"
	"os"
	"os/exec"
)

var entries = map[string]func(){}

// Register names an entry point; it panics on a duplicate name because two
// roles with one name is a programming error.
func Register(name string, fn func()) {
	if _, dup := entries[name]; dup {
		panic(fmt.Sprintf("reexec: %q registered twice", name))
	}
	entries[name] = fn
}

// Init runs the entry point named by os.Args[0] and reports whether one ran.
// The entry point is expected to exit the process itself.
func Init() bool {
	if fn, ok := entries[os.Args[0]]; ok {
		fn()
		return true
	}
	return false
}

// Self is the path of the running binary (always /proc/self/exe on Linux,
// which stays valid even if the file is replaced on disk).
func Self() string { return "/proc/self/exe" }

// Command returns a command that re-executes this binary as the entry point
// name, with args after it.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(Self(), args...)
	cmd.Args = append([]string{name}, args...)
	return cmd
}
