package runtime

import (
	"os"
	"testing"
)

// TestSameBuild: the helper is only used when it is this very build.
func TestSameBuild(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !sameBuild(self) {
		t.Error("a binary is not the same build as itself")
	}
	for _, p := range []string{"/bin/true", "/nonexistent/reconciler-shim"} {
		if sameBuild(p) {
			t.Errorf("%s taken for the same build", p)
		}
	}
}
