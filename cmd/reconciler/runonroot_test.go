package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testutil"
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

// A relative --root works as well as an absolute one: the sockets under it
// are unix:// URLs, where a relative path would read as a host name.
func TestRelativeRoot(t *testing.T) {
	testutil.NeedRoot(t, "opens a state root and serves it in process")
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	os.Chdir(t.TempDir())
	if _, errs, code := runOnRoot("state", "", "volume", "create", "rel"); code != 0 {
		t.Fatalf("volume create with --root state: exit %d: %s", code, errs)
	}
	if out, errs, code := runOnRoot("./state", "", "volume", "ls", "-q"); code != 0 || out != "rel\n" {
		t.Fatalf("volume ls with --root ./state: exit %d %q %s", code, out, errs)
	}
}
