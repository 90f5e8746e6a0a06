package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// Busybox is where Debian's busybox-static installs its static binary.
const Busybox = "/bin/busybox"

// BusyboxDockerfile builds a FROM scratch image of busybox with its applets
// installed by a RUN step (the Dockerfile path through the real runtime).
const BusyboxDockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nENV PATH=/bin\n"

// NeedRoot skips the test unless it runs as root; why says what needs it
// ("overlay mounts, namespaces and shims").
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: " + why)
	}
}

// NeedBusybox skips the test when Debian's busybox-static is missing.
func NeedBusybox(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Busybox); err != nil {
		t.Skip("needs " + Busybox + " (Debian package busybox-static)")
	}
}

// BusyboxContext writes a build context into dir (created if missing):
// the host's busybox and a Dockerfile of BusyboxDockerfile followed by
// extra instructions.
func BusyboxContext(t testing.TB, dir, extra string) {
	t.Helper()
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		t.Fatalf("%v (call NeedBusybox first to skip without Debian's busybox-static)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(BusyboxDockerfile+extra), 0o644); err != nil {
		t.Fatal(err)
	}
}
