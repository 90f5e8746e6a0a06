package sandbox

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkFloorTrue is the kernel's floor under BenchmarkStartTrue, on
// the same busybox root: the container-layer folders, an overlay over the
// root, one fork of this process into new mount, pid, uts, ipc and
// network namespaces that chroots and execs /bin/true, the wait, and the
// unmount. No init, no shim, no /proc, /dev or masks, no cgroup, caps or
// seccomp: what no runtime can go below on this host, to read the other
// rows by.
func BenchmarkFloorTrue(b *testing.B) {
	needRoot(b)
	timeEach(b, floorTrue)
}

// timeEach times run b.N times, each in a folder of its own, and reports
// the median as p50-ms.
func timeEach(b *testing.B, run func(tb testing.TB, dir string) error) {
	dir := b.TempDir()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := run(b, filepath.Join(dir, strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportP50(b, ds, "p50-ms")
}

// reportP50 reports the median of ds in ms as unit (it sorts ds): the
// median resists the outliers of a busy machine.
func reportP50(b *testing.B, ds []time.Duration, unit string) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, unit)
}

func floorTrue(tb testing.TB, dir string) error {
	cfg := layerConfig(tb, dir, "floor", "/bin/true")
	root := cfg.RootfsDir
	data := "lowerdir=" + busyboxLower + ",upperdir=" + cfg.UpperDir + ",workdir=" + cfg.WorkDir
	if err := unix.Mount("overlay", root, "overlay", 0, data); err != nil {
		return err
	}
	defer unix.Unmount(root, 0)
	pid, err := syscall.ForkExec(cfg.Args[0], cfg.Args, &syscall.ProcAttr{
		Env: []string{"PATH=/bin"},
		Sys: &syscall.SysProcAttr{
			Chroot:     root,
			Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET,
		},
	})
	if err != nil {
		return err
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return err
	}
	if ws.ExitStatus() != 0 {
		return &ExitError{Args: cfg.Args, Status: ExitStatus{Code: ws.ExitStatus()}}
	}
	return nil
}

// BenchmarkIssueFloorTrue is the floor as issue 4 measured it, "a bare
// unshare + overlay mount + chroot + exec floor about 5 ms as a whole
// process", with the host's own tools: unshare(1) into new mount, pid,
// uts, ipc and network namespaces, a shell that mounts the overlay and
// execs chroot(1), which execs /bin/true. The issue gives its aims
// beside this number on its machine, so the same number here says how
// this machine compares with that one.
func BenchmarkIssueFloorTrue(b *testing.B) {
	needRoot(b)
	for _, tool := range []string{"unshare", "mount", "chroot", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s (Debian's util-linux, mount, coreutils, dash)", tool)
		}
	}
	timeEach(b, issueFloorTrue)
}

func issueFloorTrue(tb testing.TB, dir string) error {
	cfg := layerConfig(tb, dir, "issue-floor", "/bin/true")
	script := "mount -t overlay overlay -o lowerdir=" + busyboxLower + ",upperdir=" + cfg.UpperDir + ",workdir=" + cfg.WorkDir +
		" " + cfg.RootfsDir + " && exec chroot " + cfg.RootfsDir + " /bin/true"
	out, err := exec.Command("unshare", "--mount", "--pid", "--fork", "--uts", "--ipc", "--net", "sh", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// The issue's floor runs /bin/true, and its mount goes with its mount
// namespace.
func TestIssueFloorTrue(t *testing.T) {
	needRoot(t)
	c := t.TempDir()
	if err := issueFloorTrue(t, c); err != nil {
		t.Fatal(err)
	}
	if err := unix.Rmdir(filepath.Join(c, "rootfs")); err != nil {
		t.Fatalf("the overlay is mounted on the host, or the folder is not empty: %v", err)
	}
}

// The floor's one container runs and leaves no mount behind.
func TestFloorTrue(t *testing.T) {
	needRoot(t)
	c := t.TempDir()
	if err := floorTrue(t, c); err != nil {
		t.Fatal(err)
	}
	if err := unix.Rmdir(filepath.Join(c, "rootfs")); err != nil {
		t.Fatalf("the overlay is still mounted, or the folder is not empty: %v", err)
	}
}
