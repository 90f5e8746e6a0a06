package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSubPathResolvedBeneathAtStart: a bind's SubPath is resolved beneath
// its Source when the container starts. A symlink inside the source is
// followed; a folder swapped for a link out of it (as another container
// sharing a volume could do between two starts) fails the start instead of
// mounting the host's root into the container.
func TestSubPathResolvedBeneathAtStart(t *testing.T) {
	vol := t.TempDir()
	if err := os.MkdirAll(filepath.Join(vol, "real", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(vol, "real", "sub", "mark"), []byte("inside\n"), 0o644)
	if err := os.Symlink("real", filepath.Join(vol, "inner")); err != nil {
		t.Fatal(err)
	}
	bind := func(sub string) func(*Config) {
		return func(c *Config) { c.Mounts = []Mount{{Type: "bind", Source: vol, SubPath: sub, Target: "/m"}} }
	}
	if got := sh(t, "cat /m/mark", bind("real/sub")); got != "inside\n" {
		t.Errorf("subPath real/sub: %q", got)
	}
	if got := sh(t, "cat /m/mark", bind("inner/sub")); got != "inside\n" {
		t.Errorf("subPath through a link inside the volume: %q", got)
	}

	// Swap real/sub for a link to the host's root.
	if err := os.RemoveAll(filepath.Join(vol, "real", "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(vol, "real", "sub")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"real/sub", "inner/sub"} {
		cfg, out := testConfig(t, "ls", "/m/etc")
		bind(sub)(&cfg)
		p, err := Start(cfg)
		if err == nil {
			p.Wait()
			Cleanup(cfg)
			t.Fatalf("subPath %s swapped for a link to /: the container started and saw %q", sub, out)
		}
		if !strings.Contains(err.Error(), "subPath "+sub) {
			t.Errorf("subPath %s swapped for a link to /: error %q does not name the subPath", sub, err)
		}
	}
}
