// Command reconciler is the CLI and daemon of the reconciler: thin cobra
// commands that parse flags, call packages and print.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/reconciler/reconciler/internal/reexec"
)

func main() {
	if reexec.Init() {
		return
	}
	if err := newRootCmd().Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// exitError ends the process with code after printing msg (if any).
// Code 1 means failed (or, for diff, differences found); 2 means bad usage.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
