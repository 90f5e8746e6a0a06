// Command reconciler is the CLI and daemon of the reconciler: thin cobra
// commands that parse flags, call packages and print.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if code := exitCode(newRootCmd().Execute(), os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// exitCode prints what ended a command line (an exitError's message, or
// "Error: ..." for any other error) to stderr and returns the process's
// exit code. Tests that run commands in process use it too, so they see
// exactly what main prints.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "Error:", err)
	return 1
}

// exitError ends the process with code after printing msg (if any).
// Code 1 means failed (or, for diff, differences found); 2 means bad usage.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
