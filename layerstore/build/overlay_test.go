package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

// overlayRunner is a minimal stand-in for the container runtime: it mounts
// the overlay exactly as a Runner must (LowerDirs base first, the builder's
// UpperDir and WorkDir) and runs the command chrooted into it. It proves
// that real overlayfs changes, deletions included, become the step's layer.
type overlayRunner struct{ t *testing.T }

func (o overlayRunner) Run(ctx context.Context, r RunRequest) error {
	mnt := o.t.TempDir()
	lowers := slices.Clone(r.LowerDirs)
	slices.Reverse(lowers) // overlayfs lists the top layer first
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lowers, ":"), r.UpperDir, r.WorkDir)
	if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	cmd := exec.CommandContext(ctx, r.Args[0], r.Args[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = r.Env, r.Cwd, r.Output, r.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: mnt}
	return cmd.Run()
}

func TestRunOnRealOverlay(t *testing.T) {
	testutil.NeedRoot(t, "mounts overlayfs and chroots")
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian busybox-static)")
	}
	s := openStore(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"old.txt": "old", "keep/a": "a"})
	df := `FROM scratch
COPY busybox /bin/
COPY old.txt /
COPY keep /keep/
RUN ["/bin/busybox", "ln", "-s", "busybox", "/bin/sh"]
ARG WHO=world
WORKDIR /work
RUN echo "hello $WHO from $(pwd)" > greeting && rm /old.txt && rm -r /keep && mkdir /keep && echo b > /keep/b
RUN exit 3
`
	r := build(t, s, dir, df, Options{Runner: overlayRunner{t}})
	if r.err == nil || !strings.Contains(r.err.Error(), "Dockerfile:9: RUN exit 3") || !strings.Contains(r.err.Error(), "exit status 3") {
		t.Fatalf("RUN exit 3: %v\n%s", r.err, r.out)
	}
	writeFiles(t, dir, map[string]string{"Dockerfile": strings.Replace(df, "RUN exit 3\n", "", 1)})
	r = mustBuild(t, s, dir, "", Options{Runner: overlayRunner{t}})
	if got, _ := readImageFile(t, s, r.img, "/work/greeting"); got != "hello world from /work\n" {
		t.Errorf("greeting = %q", got)
	}
	for p, want := range map[string]bool{"/old.txt": false, "/keep/a": false, "/keep/b": true, "/bin/sh": true} {
		if _, ok := statImage(t, s, r.img, p); ok != want {
			t.Errorf("%s present = %v, want %v", p, ok, want)
		}
	}
	if len(r.img.Layers) != 6 {
		t.Errorf("layers = %d, want 6", len(r.img.Layers))
	}
	tmp, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(tmp) != 0 {
		t.Errorf("RUN left %d entries in the store's tmp/", len(tmp))
	}
}
