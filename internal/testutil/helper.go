package testutil

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// ShimHelper builds cmd/reconciler-shim, the runtime's helper binary, into
// a temporary folder of tb and returns its path, so a benchmark measures
// shims and inits started from it, as the built reconciler runs them
// (see package runtime/shimhelper), not from the test binary. The caller
// seals it in at once (sandbox.UseHelper, then sandbox.Prepare): the
// folder goes when tb ends.
func ShimHelper(tb testing.TB) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "reconciler-shim")
	cmd := exec.Command("go", "build", "-o", out, "github.com/reconciler/reconciler/cmd/reconciler-shim")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/reconciler-shim: %v\n%s", err, b)
	}
	return out
}
