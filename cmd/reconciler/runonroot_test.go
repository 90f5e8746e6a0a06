package main

import (
	"bytes"
	"strings"
)

// runOnRoot runs a command line in process on the state root root, with stdin,
// and returns what it printed and the exit code, exactly as main would.
func runOnRoot(root, stdin string, args ...string) (stdout, stderr string, code int) {
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--root", root}, args...))
	code = exitCode(cmd.Execute(), &errb)
	return out.String(), errb.String(), code
}
