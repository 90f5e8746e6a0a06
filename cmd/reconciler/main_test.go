package main

import (
	"os"
	"testing"

	"github.com/reconciler/reconciler/internal/reexec"
)

// TestMain lets the test binary serve as the engine's shim, container init
// and build runner when the engine re-executes it. Shared by every test of
// the package: add no other TestMain.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}
