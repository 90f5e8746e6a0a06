package sandbox

import (
	"os/exec"
	"syscall"
)

// StartError is a failure inside the container (the init or an exec
// helper) before the user's program ran. For failures to run the program
// itself, Program is true and errors.Is works with os.ErrNotExist (missing
// program or ELF interpreter), exec.ErrNotFound (not in PATH) and
// os.ErrPermission (not executable); ExitCode gives Docker's code for them.
type StartError struct {
	Msg      string
	Program  bool
	Errno    syscall.Errno
	NotFound bool // not found in PATH
}

func (e *StartError) Error() string { return e.Msg }

func (e *StartError) Unwrap() []error {
	var errs []error
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	if e.NotFound {
		errs = append(errs, exec.ErrNotFound)
	}
	return errs
}

// ExitCode is Docker's exit code for a container that could not start:
// 127 for a missing program, 126 for one that cannot be executed, 128
// for anything else.
func (e *StartError) ExitCode() int {
	switch {
	case !e.Program:
		return 128
	case e.NotFound || e.Errno == syscall.ENOENT:
		return 127
	case e.Errno == syscall.EACCES || e.Errno == syscall.EPERM || e.Errno == syscall.ENOEXEC:
		return 126
	}
	return 128
}
