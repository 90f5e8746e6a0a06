package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/reconciler/reconciler/internal/reexec"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime/sandbox/sandboxtest"
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

// TestWithInitProcess runs every other test of the package again with
// an init process, on a kernel where they ran without one (see canLaunch):
// both ways must isolate alike.
func TestWithInitProcess(t *testing.T) {
	if !StartsWithoutInit() {
		t.Skip("the tests already start containers with an init process here")
	}
	needRoot(t)
	testutil.Rerun(t, InitProcessEnv+"=1")
}

// busyboxLower is a busybox root file system shared read-only by the tests
// as their base layer, built once per test binary.
var busyboxLower string

// needRoot skips tests that need root and busybox-static.
func needRoot(t testing.TB) {
	t.Helper()
	testutil.NeedRoot(t, "mounts, namespaces and cgroups")
	testutil.NeedBusybox(t)
	if busyboxLower == "" {
		dir, err := os.MkdirTemp("", "sandbox-busybox-")
		if err != nil {
			t.Fatal(err)
		}
		busyboxLower = filepath.Join(dir, "rootfs")
		if err := sandboxtest.BuildBusybox(busyboxLower); err != nil {
			t.Fatal(err)
		}
	}
}

// testConfig returns a container config on the busybox image with fresh
// container-layer directories and the given command.
func testConfig(t testing.TB, args ...string) (Config, *bytes.Buffer) {
	t.Helper()
	needRoot(t)
	var out bytes.Buffer
	cfg := layerConfig(t, t.TempDir(), randomID(), args...)
	cfg.Network = NetworkNone
	cfg.Stdout, cfg.Stderr = &out, &out
	return cfg, &out
}

// layerConfig makes a container layer's folders (upper, work, rootfs) in
// dir and returns a Config with id on the busybox root that uses them.
func layerConfig(tb testing.TB, dir, id string, args ...string) Config {
	tb.Helper()
	for _, d := range []string{"upper", "work", "rootfs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return Config{
		ID:        id,
		LowerDirs: []string{busyboxLower},
		UpperDir:  filepath.Join(dir, "upper"),
		WorkDir:   filepath.Join(dir, "work"),
		RootfsDir: filepath.Join(dir, "rootfs"),
		Args:      args,
	}
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

// execPid is Exec in the container whose init is pid, pinned here.
func execPid(pid int, p ExecConfig) (*Process, error) {
	proc, err := OpenProc(pid)
	if err != nil {
		return nil, err
	}
	defer proc.Close()
	return Exec(proc, p)
}
