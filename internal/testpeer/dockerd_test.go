package testpeer

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/mountinfo"
)

func TestStartDockerd(t *testing.T) {
	sock, d := StartDockerd(t)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("socket: %v", err)
	}
	out, err := d.Docker(context.Background(), "version", "--format", "{{.Server.Version}}")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("docker version: %q %v", out, err)
	}
	t.Logf("dockerd %s on %s and %s", strings.TrimSpace(out), d.Host, d.TCP)
}

// TestStopKillsShims: a peer's containers run under containerd shims in
// process groups of their own; when dockerd's group is killed outright (as
// after its 15s stop timeout), Stop still kills the shims and their
// containers and leaves no cgroup, no mount and no folder behind.
func TestStopKillsShims(t *testing.T) {
	rootfs := busyboxRootfs(t)
	_, d := StartDockerd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := d.Docker(ctx, "import", rootfs, "bb:1"); err != nil {
		t.Fatal(out, err)
	}
	out, err := d.Docker(ctx, "run", "-d", "--network", "none", "bb:1", "sleep", "300")
	if err != nil {
		t.Fatal(out, err)
	}
	id := strings.TrimSpace(out)
	out, err = d.Docker(ctx, "inspect", "-f", "{{.State.Pid}}", id)
	if err != nil {
		t.Fatal(out, err)
	}
	ctrPID, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || ctrPID <= 0 {
		t.Fatalf("container PID %q: %v", out, err)
	}
	shims := shimsUnder(d.Dir)
	if len(shims) != 1 || shims[0].id != id {
		t.Fatalf("containerd shims with -address below %s while container %s runs: %+v", d.Dir, id, shims)
	}
	cgroups := containerCgroups([]int{ctrPID}, []string{id})
	if len(cgroups) == 0 {
		t.Fatalf("no cgroup of container %s (process %d) found", id, ctrPID)
	}

	_ = syscall.Kill(-d.PID, syscall.SIGKILL) // the shims are outside this group
	d.Stop()

	if left := shimsUnder(d.Dir); len(left) > 0 {
		t.Errorf("shims with -address below %s survive Stop: PIDs %v (before: %v)", d.Dir, left, shims)
	}
	if _, state, ok := stat(ctrPID); ok && state != 'Z' {
		t.Errorf("container process %d survives Stop (state %c)", ctrPID, state)
	}
	for _, root := range cgroupMounts() {
		for _, p := range cgroups {
			if _, err := os.Stat(filepath.Join(root, p)); err == nil {
				t.Errorf("container cgroup %s survives Stop", filepath.Join(root, p))
			}
		}
	}
	if mounts, _ := mountinfo.Under(d.Dir); len(mounts) > 0 {
		t.Errorf("mounts survive Stop: %v", mounts)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("%s survives Stop: %v", d.Dir, err)
	}
}

func TestIsShimFor(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", "abc", "-address", "/tmp/dkd1/x/containerd/containerd.sock"}, true},
		{[]string{"containerd-shim-runc-v2", "--address=unix:///tmp/dkd1/c.sock"}, true},
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-address", "/run/containerd/containerd.sock"}, false},
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-address", "/tmp/dkd10/c.sock"}, false},
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-address"}, false},
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-id", "-address", "/tmp/dkd1/c.sock"}, true},
		{[]string{"/bin/sleep", "-address", "/tmp/dkd1/c.sock"}, false},
	} {
		if got := isShimFor(c.args, "/tmp/dkd1"); got != c.want {
			t.Errorf("isShimFor(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// busyboxRootfs writes a root filesystem tar holding Debian's static
// busybox and a sleep link, so the image needs no network.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	now := time.Now()
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb)), ModTime: now})
	tw.Write(bb)
	tw.WriteHeader(&tar.Header{Name: "bin/sleep", Typeflag: tar.TypeSymlink, Linkname: "busybox", ModTime: now})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
