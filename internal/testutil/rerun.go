package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Rerun runs the other tests of the package again in a child process of
// the test binary with env added to its environment: for code with two
// ways of doing one thing, chosen by the environment, that must behave
// alike. t is the test calling it, left out of the rerun.
func Rerun(t *testing.T, env ...string) {
	t.Helper()
	args := []string{"-test.run", "^Test", "-test.skip", "^" + t.Name() + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || testing.Verbose() {
		t.Logf("with %v:\n%s", env, out)
	}
	if err != nil {
		t.Fatal(err)
	}
}
