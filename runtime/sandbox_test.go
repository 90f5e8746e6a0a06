package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
)

func TestIsolatedContainer(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	lower := busybox(t)
	id := mustCreate(t, r, boxSpec(t, "box", "echo pid=$$; hostname; echo changed > /etc/motd; rm /bin/vi; echo new > /new"))
	att, _ := r.Attach(ctx, id)
	mustStart(t, r, id)
	got := readAll(t, att)
	if strings.Join(got, "|") != "stdout:pid=1|stdout:"+id[:12] {
		t.Errorf("output = %q, want PID 1 and the short ID as hostname", got)
	}
	if code := waitExit(t, r, id); code != 0 {
		t.Fatalf("exit %d: %q", code, readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll}))))
	}
	upper, _ := r.UpperDir(id)
	if b, err := os.ReadFile(filepath.Join(upper, "new")); err != nil || string(b) != "new\n" {
		t.Errorf("container layer lacks /new: %q %v", b, err)
	}
	if st, err := os.Lstat(filepath.Join(upper, "bin/vi")); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("deleting /bin/vi left no whiteout in the container layer: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(lower, "bin/vi")); err != nil {
		t.Errorf("the image layer was written: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lower, "new")); err == nil {
		t.Errorf("the image layer got /new")
	}
	// A second run sees the first run's changes (same container layer).
	c, _ := r.Inspect(id)
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("container layer left after remove: %v", err)
	}
}

func TestExecAndStopInSandbox(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	s := boxSpec(t, "svc", "echo $$ > /tmp/pid; mv /tmp/pid /tmp/init.pid; exec sleep 1000")
	s.Env = []string{"FROM_SPEC=1"}
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	evCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ev := r.Subscribe(evCtx)
	var out bytes.Buffer
	// Start returns once sh runs, maybe before it wrote its PID: the
	// exec waits for the file, which appears whole.
	code, err := r.Exec(ctx, id, ExecSpec{Args: []string{"sh", "-c", "until [ -e /tmp/init.pid ]; do sleep 0.01; done; cat /tmp/init.pid; hostname; echo $FROM_SPEC$EXTRA; exit 4"}, Env: []string{"EXTRA=2"}, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	if code != 4 || out.String() != "1\n"+id[:12]+"\n12\n" {
		t.Errorf("exec: code %d, output %q", code, out.String())
	}
	if a, b := <-ev, <-ev; !strings.HasPrefix(a.Action, "exec_start: sh -c") || b.Action != "exec_die" || b.Attributes["exitCode"] != "4" {
		t.Errorf("exec events: %q, %q %v", a.Action, b.Action, b.Attributes)
	}
	// SIGTERM to a PID 1 without a handler is ignored: SIGKILL after grace.
	begin := time.Now()
	if err := r.Stop(ctx, id, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c, _ := r.Inspect(id)
	if c.State.ExitCode != 137 || time.Since(begin) < 200*time.Millisecond {
		t.Errorf("stop: %+v after %v", c.State, time.Since(begin))
	}
	if _, err := r.Exec(ctx, id, ExecSpec{Args: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("exec in stopped container: %v", err)
	}
}

func TestOOMKillRecorded(t *testing.T) {
	r := newRuntime(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := r.Subscribe(ctx)
	s := boxSpec(t, "hog", "tail /dev/zero")
	s.Resources.MemoryBytes = 16 << 20
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	code := waitExit(t, r, id)
	c, _ := r.Inspect(id)
	if !c.State.OOMKilled || code != 137 {
		t.Fatalf("state: %+v", c.State)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.Action == "oom" {
				if !strings.Contains(gather(t, r), "reconciler_container_oom_kills_total 1") {
					t.Errorf("oom kill not counted")
				}
				return
			}
		case <-timeout:
			t.Fatal("no oom event")
		}
	}
}

func TestRunOnce(t *testing.T) {
	r := newRuntime(t, false)
	dir := t.TempDir()
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	os.Mkdir(upper, 0o755)
	os.Mkdir(work, 0o755)
	var out bytes.Buffer
	err := r.RunOnce(context.Background(), OnceSpec{LowerDirs: []string{busybox(t)}, UpperDir: upper, WorkDir: work,
		Args: []string{"sh", "-c", "echo built > /artifact; echo to-stdout; echo to-stderr >&2"}, Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(upper, "artifact")); string(b) != "built\n" {
		t.Errorf("upper lacks the artifact: %q", b)
	}
	if !strings.Contains(out.String(), "to-stdout\n") || !strings.Contains(out.String(), "to-stderr\n") {
		t.Errorf("output %q", out.String())
	}
	os.RemoveAll(upper)
	os.RemoveAll(work)
	os.Mkdir(upper, 0o755)
	os.Mkdir(work, 0o755)
	err = r.RunOnce(context.Background(), OnceSpec{LowerDirs: []string{busybox(t)}, UpperDir: upper, WorkDir: work, Args: []string{"sh", "-c", "exit 5"}})
	if ExitCode(err) != 5 {
		t.Errorf("RunOnce exit: %v (code %d)", err, ExitCode(err))
	}
	ents, _ := os.ReadDir(r.Root())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), onceDirPrefix) {
			t.Errorf("RunOnce left %s", e.Name())
		}
	}
}

func TestSpecMapsOntoSandbox(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644)
	s := boxSpec(t, "mapped", `cat /data/in; (echo x > /data/out) 2>/dev/null || echo ro; echo t > /scratch/f && echo tmpfs-ok
		hostname; pwd; id -u; echo $GREETING; ls /sys/class/net; cat /etc/hostname; grep -c localhost /etc/hosts`)
	s.Mounts = []Mount{{Type: MountBind, Source: host, Target: "/data", ReadOnly: true}, {Type: MountTmpfs, Target: "/scratch", Size: 1 << 20}}
	s.Hostname, s.Cwd, s.User, s.Env = "myhost", "/work/dir", "nobody", []string{"GREETING=hi"}
	s.Resources = Resources{MemoryBytes: 64 << 20, PidsLimit: 64, NanoCPUs: 5e8}
	id := mustCreate(t, r, s)
	att, _ := r.Attach(ctx, id)
	mustStart(t, r, id)
	got := strings.Join(readAll(t, att), "|")
	want := "stdout:from host|stdout:ro|stdout:tmpfs-ok|stdout:myhost|stdout:/work/dir|stdout:65534|stdout:hi|stdout:lo|stdout:myhost|stdout:2"
	if got != want {
		c, _ := r.Inspect(id)
		t.Errorf("output:\n%s\nwant:\n%s\nstate: %+v\nlog: %q", got, want, c.State, readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll}))))
	}
	if _, err := os.Stat(filepath.Join(host, "out")); err == nil {
		t.Errorf("a read-only bind was written")
	}
}

// TestStartFailsWithoutALog: the shim makes the log while the container
// starts; when it cannot, the start fails, saying why, and nothing of the
// container is left running.
func TestStartFailsWithoutALog(t *testing.T) {
	r := newRuntime(t, false)
	id := mustCreate(t, r, boxSpec(t, "nolog", "sleep 100"))
	c, err := r.Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(c.Dir, filepath.Dir(shim.LogFile))
	if err := os.RemoveAll(logDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logDir, nil, 0o600); err != nil { // a file where the folder was
		t.Fatal(err)
	}
	err = r.Start(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "log") {
		t.Fatalf("start without a log folder: %v", err)
	}
	c, err = r.Inspect(id)
	if err != nil || c.State.Running() {
		t.Fatalf("state after the failed start: %+v (%v)", c.State, err)
	}
	if g, err := cgroups.Open("", id); err == nil {
		if pids, _ := g.Pids(); len(pids) > 0 {
			t.Fatalf("processes left in the container's cgroup: %v", pids)
		}
	}
}

// A failed first start on a prestarted init (whose running state is
// written ahead, while the init mounts) records the failure, and no
// trace of that running state: no start event, no temporary file.
func TestPrestartedStartFailureLeavesNoRunningState(t *testing.T) {
	r := newRuntime(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := r.Subscribe(ctx)
	id := mustCreate(t, r, Spec{Name: "nope", LowerDirs: []string{busybox(t)}, Args: []string{"/does/not/exist"}})
	if err := r.Start(ctx, id); err == nil || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Fatalf("start error: %v", err)
	}
	c, _ := r.Inspect(id)
	if c.State.Status != StateCreated || c.State.ExitCode != 127 || c.State.StartCount != 0 {
		t.Errorf("state after failed start: %+v", c.State)
	}
	ents, _ := os.ReadDir(c.Dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("left %s behind", e.Name())
		}
	}
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		select {
		case e := <-ev:
			if e.ID == id && e.Action == "start" {
				t.Errorf("a start event for a start that failed")
			}
			done = e.ID == id && e.Action == "destroy"
		case <-time.After(5 * time.Second):
			t.Fatal("no destroy event")
		}
	}
}

// A shim started for a lone start runs its Go runtime on two Ps (see
// shimProcs), and the container's program never sees that setting.
func TestShimProcsStayInTheShim(t *testing.T) {
	r := newRuntime(t, false)
	id := mustCreate(t, r, boxSpec(t, "oneproc", "exec sleep 1000"))
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	environ := func(pid int) []string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(string(b), "\x00")
	}
	if env := environ(c.State.ShimPid); !slices.Contains(env, "GOMAXPROCS=2") {
		t.Errorf("shim environment lacks GOMAXPROCS=2: %q", env)
	}
	if env := environ(c.State.Pid); slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "GOMAXPROCS=") }) {
		t.Errorf("the container's program inherited the helpers' setting: %q", env)
	}
}
