package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/reexec"
)

func TestMain(m *testing.M) {
	reexec.Register(evilRole, evilMain)
	reexec.Register(sealedRole, sealedMain)
	if reexec.Init() {
		return
	}
	code := m.Run()
	if busyboxLower != "" {
		os.RemoveAll(filepath.Dir(busyboxLower))
	}
	os.Exit(code)
}

// busyboxLower is a busybox root file system shared read-only by the tests
// as their base layer, built once per test binary.
var busyboxLower string

// needRoot skips tests that need root and busybox-static.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts, namespaces and cgroups")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	if busyboxLower == "" {
		dir, err := os.MkdirTemp("", "sandbox-busybox-")
		if err != nil {
			t.Fatal(err)
		}
		busyboxLower = filepath.Join(dir, "rootfs")
		if err := buildBusybox(busyboxLower); err != nil {
			t.Fatal(err)
		}
	}
}

// buildBusybox writes a minimal image: busybox with its applet symlinks
// (busybox --install -s style), /etc/passwd and /etc/group.
func buildBusybox(root string) error {
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/app"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(out)) {
		if name != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil {
				return err
			}
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nstaff:x:50:app\napp:x:1000:\naudio:x:63:app,root\nnogroup:x:65534:\n",
		"etc/motd":   "from the image\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// testConfig returns a container config on the busybox image with fresh
// container-layer directories and the given command.
func testConfig(t testing.TB, args ...string) (Config, *bytes.Buffer) {
	t.Helper()
	needRoot(t)
	dir := t.TempDir()
	for _, d := range []string{"upper", "work", "rootfs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	return Config{
		ID:        randomID(),
		LowerDirs: []string{busyboxLower},
		UpperDir:  filepath.Join(dir, "upper"),
		WorkDir:   filepath.Join(dir, "work"),
		RootfsDir: filepath.Join(dir, "rootfs"),
		Args:      args,
		Network:   NetworkNone,
		Stdout:    &out,
		Stderr:    &out,
	}, &out
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// runContainer starts cfg, waits for it and cleans up.
func runContainer(t testing.TB, cfg Config) ExitStatus {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := Cleanup(cfg); err != nil {
		t.Errorf("Cleanup: %v", err)
	}
	return st
}

// sh runs a shell script in a fresh busybox container and returns its
// combined output, failing the test on a non-zero exit.
func sh(t *testing.T, script string, edit ...func(*Config)) string {
	t.Helper()
	cfg, out := testConfig(t, "sh", "-c", script)
	for _, e := range edit {
		e(&cfg)
	}
	st := runContainer(t, cfg)
	if st.Code != 0 {
		t.Fatalf("script %q: exit %+v, output:\n%s", script, st, out)
	}
	return out.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
