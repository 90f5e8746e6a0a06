// Package e2e proves the finished product from the outside: it builds the
// reconciler binary once, starts `reconciler daemon` on temporary state
// roots and drives it with the real docker CLI, checking what a user sees.
//
// Everything here needs root (the daemon runs real containers) and the
// docker CLI (/usr/local/bin/docker, or Debian's on PATH). Without them every
// test skips with the reason. E2E_RECONCILER_BIN runs the tests against a
// binary built elsewhere instead of building one.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

var (
	// reconcilerBin is the binary under test, built once by TestMain.
	reconcilerBin string
	// dockerBin is the docker CLI that drives it.
	dockerBin string
	// skipReason, when set, makes every test skip (not root, no CLI).
	skipReason string
	// buildErr, when set, makes every test fail: the binary did not build.
	buildErr error
	// buildErrOnce shows the build output in one test only.
	buildErrOnce sync.Once
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dockerBin = clitest.Find()
	switch {
	case os.Geteuid() != 0:
		skipReason = "needs root: the daemon under test runs real containers"
	case dockerBin == "":
		skipReason = "needs the docker CLI (/usr/local/bin/docker, or Debian's docker.io)"
	case os.Getenv("E2E_RECONCILER_BIN") != "":
		reconcilerBin = os.Getenv("E2E_RECONCILER_BIN")
	default:
		dir, err := os.MkdirTemp("", "reconciler-e2e-bin-")
		if err != nil {
			buildErr = err
			break
		}
		defer os.RemoveAll(dir)
		reconcilerBin = filepath.Join(dir, "reconciler")
		buildErr = buildBinary(reconcilerBin)
	}
	return m.Run()
}

// buildBinary builds ./cmd/reconciler of this module (the parent folder)
// at out, and its helper ./cmd/reconciler-shim beside it, as make does.
func buildBinary(out string) error {
	cmd := exec.Command("go", "build", "-o", filepath.Dir(out)+"/", "./cmd/reconciler", "./cmd/reconciler-shim")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/reconciler ./cmd/reconciler-shim: %v\n%s", err, b)
	}
	return nil
}

// requireE2E skips or fails t when the package cannot run.
func requireE2E(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if buildErr != nil {
		shown := false
		buildErrOnce.Do(func() { shown = true })
		if shown {
			t.Fatal(buildErr)
		}
		t.Fatal("the reconciler binary did not build (output in the first failing test)")
	}
}
