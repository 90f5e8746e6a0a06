package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/fake"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/spec"
)

func TestApplyFresh(t *testing.T) {
	dir := t.TempDir()
	objs := manifest(t, dir, "app.yaml", appYAML)
	e := fake.New()
	c, out := newController(t, e, Options{})
	st := apply(t, c, objs)
	for _, s := range st {
		if s.Phase != Ready {
			t.Errorf("%s: %s %s", s.Key, s.Phase, s.Message)
		}
	}
	for _, want := range []string{"build image/app", "create volume/data", "create volume/cache", "create container/web", "create container/worker"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	cfg, ok := e.ContainerConfig("web")
	if !ok {
		t.Fatal("no container web")
	}
	if got := strings.Join(cfg.Entrypoint, " "); got != "/bin/web" || cfg.Env[0] != "PORT=8080" || cfg.Resources.MemoryBytes != 64<<20 || cfg.Resources.NanoCPUs != 5e8 {
		t.Errorf("config: %+v", cfg)
	}
	if cfg.Restart.Name != "always" || cfg.StopGrace != 10*time.Second || len(cfg.Mounts) != 2 {
		t.Errorf("config: %+v", cfg)
	}
	for _, l := range []string{engine.LabelManaged, engine.LabelSpecHash, engine.LabelSource, engine.LabelImageID, LabelSpec, "app"} {
		if cfg.Labels[l] == "" {
			t.Errorf("label %s missing: %v", l, cfg.Labels)
		}
	}
	if !running(e, "web") || !running(e, "worker") {
		t.Fatal("containers not running")
	}
}

func TestReapplyTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	objs := manifest(t, dir, "app.yaml", appYAML)
	e := fake.New()
	c, _ := newController(t, e, Options{})
	apply(t, c, objs)
	e.ResetCalls()
	apply(t, c, objs)
	if n := e.Mutations(); n != 0 {
		t.Fatalf("re-apply made %d changes: %v", n, e.Calls())
	}
	// A restarted controller (new process) and a reformatted file: still nothing.
	reformatted := strings.ReplaceAll(appYAML, `env: [{name: PORT, value: "8080"}]`, "env:\n    - value: \"8080\"\n      name: PORT   # the port")
	objs2 := manifest(t, dir, "app.yaml", reformatted)
	c2, out := newController(t, e, Options{})
	st := apply(t, c2, objs2)
	if n := e.Mutations(); n != 0 {
		t.Fatalf("restarted controller made %d changes: %v\n%s", n, e.Calls(), out)
	}
	for _, s := range st {
		if s.Phase != Ready {
			t.Errorf("%s: %s", s.Key, s.Phase)
		}
	}
}

func TestEditRecreatesExactlyTheAffected(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	apply(t, c, manifest(t, dir, "app.yaml", appYAML))
	workerID := containerID(t, e, "worker")
	webID := containerID(t, e, "web")

	edited := strings.Replace(appYAML, `value: "8080"`, `value: "9090"`, 1)
	c2, out := newController(t, e, Options{}) // after a restart: reasons come from labels
	apply(t, c2, manifest(t, dir, "app.yaml", edited))
	want := `recreate container/web: spec.env[PORT]: "8080" -> "9090"`
	if got := out.lines("recreate"); len(got) != 1 || got[0] != want {
		t.Fatalf("recreate lines %q, want [%q]\n%s", got, want, out)
	}
	if containerID(t, e, "worker") != workerID {
		t.Fatal("worker was recreated without a reason")
	}
	if containerID(t, e, "web") == webID || !running(e, "web") {
		t.Fatal("web not recreated and running")
	}
}

func containerID(t *testing.T, e *fake.Engine, name string) string {
	t.Helper()
	cs, _ := e.Containers(context.Background(), map[string]string{engine.LabelName: name})
	if len(cs) != 1 {
		t.Fatalf("%d containers named %s", len(cs), name)
	}
	return cs[0].ID
}

func TestRebuiltImageRecreatesItsContainers(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, out := newController(t, e, Options{})
	apply(t, c, manifest(t, dir, "app.yaml", appYAML))
	out.Reset()
	edited := strings.Replace(appYAML, "build: {context: ./app}", "build: {context: ./app, args: {V: \"2\"}}", 1)
	apply(t, c, manifest(t, dir, "app.yaml", edited))
	if got := out.lines("rebuild"); len(got) != 1 || !strings.Contains(got[0], `spec.build.args: <unset> -> {"V":"2"}`) {
		t.Fatalf("rebuild lines %q\n%s", got, out.String())
	}
	rec := out.lines("recreate")
	if len(rec) != 2 || !strings.Contains(rec[0], "image app:1 changed: ") {
		t.Fatalf("recreate lines %q", rec)
	}
}

func TestDriftHealedPromptly(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	reg := prometheus.NewRegistry()
	c, out := newController(t, e, Options{Registry: reg, Resync: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	apply(t, c, manifest(t, dir, "app.yaml", appYAML))

	if err := e.Delete("web"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Second, "removed container recreated", func() bool { return running(e, "web") })
	if err := e.Kill("worker", 1); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Second, "stopped container started", func() bool { return running(e, "worker") })
	if n := metricValue(t, reg, "reconciler_drift_corrections_total", "removed"); n != 1 {
		t.Errorf("drift removed = %v", n)
	}
	if n := metricValue(t, reg, "reconciler_drift_corrections_total", "stopped"); n != 1 {
		t.Errorf("drift stopped = %v", n)
	}
	if !strings.Contains(out.String(), "drift container/web: removed behind our back") {
		t.Errorf("no drift line:\n%s", out)
	}
	if n := metricValue(t, reg, "reconciler_objects", "Ready"); n != 5 {
		t.Errorf("objects Ready = %v, want 5", n)
	}
}

func TestResyncHealsWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	apply(t, c, manifest(t, dir, "app.yaml", appYAML))
	e.Kill("web", 0)
	e.ResetCalls()
	c.Resync(context.Background())
	stop := c.runWorkers(context.Background())
	defer stop()
	testutil.Eventually(t, time.Second, "web started by resync", func() bool { return running(e, "web") })
	if calls := e.Calls(); calls["CreateContainer"] != 0 || calls["StartContainer"] != 1 {
		t.Fatalf("calls %v", calls)
	}
}

func TestPruneKeepsRetainVolumes(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, out := newController(t, e, Options{})
	objs := manifest(t, dir, "app.yaml", appYAML)
	apply(t, c, objs)
	// The file is removed: its source now declares nothing.
	apply(t, c, nil, objs[0].Source.File)
	ctx := context.Background()
	if cs, _ := e.Containers(ctx, nil); len(cs) != 0 {
		t.Fatalf("containers left: %v", cs)
	}
	vols, _ := e.Volumes(ctx, nil)
	if len(vols) != 1 || vols[0].Name != "data" {
		t.Fatalf("volumes left %v, want only the Retain volume data", vols)
	}
	if imgs, _ := e.Images(ctx, map[string]string{engine.LabelManaged: "true"}); len(imgs) != 0 {
		t.Fatalf("images left: %v", imgs)
	}
	for _, want := range []string{"remove container/web: no longer declared", "remove volume/cache: ", "keep volume/data: reclaimPolicy Retain"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(c.Status()) != 0 {
		t.Fatalf("statuses left: %+v", c.Status())
	}
}

func TestNameClashWithUnmanagedIsAnError(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	e.AddImage("busybox:latest")
	if _, err := e.CreateContainer(context.Background(), engine.ContainerConfig{Name: "web", Image: "busybox"}); err != nil {
		t.Fatal(err)
	}
	c, _ := newController(t, e, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.ApplyOnce(ctx, manifest(t, dir, "app.yaml", appYAML), nil)
	if err == nil || !strings.Contains(err.Error(), "not managed by reconciler") {
		t.Fatalf("apply: %v", err)
	}
	for _, s := range st {
		want := Ready
		if s.Key.Name == "web" {
			want = Failed
		}
		if s.Phase != want {
			t.Errorf("%s: %s (%s), want %s", s.Key, s.Phase, s.Message, want)
		}
	}
	if cfg, _ := e.ContainerConfig("web"); cfg.Labels[engine.LabelManaged] != "" {
		t.Fatal("unmanaged container was replaced")
	}
}

func TestPlanChangesNothing(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	objs := manifest(t, dir, "app.yaml", appYAML)
	acts, err := c.Plan(context.Background(), objs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Mutations() != 0 {
		t.Fatalf("plan changed the engine: %v", e.Calls())
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.String())
	}
	want := "create volume/cache|create volume/data|build image/app|create container/web|create container/worker"
	if strings.Join(got, "|") != want {
		t.Fatalf("plan %q", got)
	}
	apply(t, c, objs)
	e.Kill("worker", 0)
	acts, err = c.Plan(context.Background(), objs, nil)
	if err != nil || len(acts) != 1 || acts[0].String() != "start container/worker: exited (exit code 0), restartPolicy Always" {
		t.Fatalf("plan for a stopped container: %v %v", acts, err)
	}
	e.StartContainer(context.Background(), "worker")
	edited := strings.Replace(appYAML, `value: "8080"`, `value: "9090"`, 1)
	acts, err = c.Plan(context.Background(), manifest(t, dir, "app.yaml", edited), nil)
	if err != nil || len(acts) != 1 || acts[0].String() != `recreate container/web: spec.env[PORT]: "8080" -> "9090"` {
		t.Fatalf("plan of an edit: %v %v", acts, err)
	}
}

func TestDeleteRemovesButKeepsRetain(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	objs := manifest(t, dir, "app.yaml", appYAML)
	apply(t, c, objs)
	c2, out := newController(t, e, Options{})
	var keys []spec.Key
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c2.Delete(ctx, keys); err != nil {
		t.Fatal(err)
	}
	vols, _ := e.Volumes(ctx, nil)
	cs, _ := e.Containers(ctx, nil)
	if len(cs) != 0 || len(vols) != 1 {
		t.Fatalf("left: %v %v\n%s", cs, vols, out)
	}
}

func TestWaitsForFailedImage(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	for i := 0; i < 20; i++ {
		e.FailNext("EnsureImage", errFake("build failed: step 2"))
	}
	c, _ := newController(t, e, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ApplyOnce(ctx, manifest(t, dir, "app.yaml", appYAML), nil)
	if err == nil || !strings.Contains(err.Error(), "image/app: Failed") || !strings.Contains(err.Error(), "container/web: Failed: image app:1 failed") {
		t.Fatalf("apply: %v", err)
	}
	// The volumes, which do not depend on the image, are there.
	if vols, _ := e.Volumes(ctx, nil); len(vols) != 2 {
		t.Fatalf("volumes %v", vols)
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

// metricValue sums the counters or gauges of family name whose label
// values include value.
func metricValue(t *testing.T, reg *prometheus.Registry, name, value string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return sum
}

func TestUnreachableHostIsUnknownUntilItAnswers(t *testing.T) {
	dir := t.TempDir()
	objs := manifest(t, dir, "far.yaml", `apiVersion: reconciler/v1
kind: Host
metadata: {name: far}
spec: {address: "tcp://192.0.2.1:2375"}
---
apiVersion: reconciler/v1
kind: Volume
metadata: {name: v}
spec: {host: far}
`)
	e := fake.New()
	var mu sync.Mutex
	up := false
	c, err := New(Options{
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Engines: func(host string, decl *spec.Host) (engine.Engine, error) {
			mu.Lock()
			defer mu.Unlock()
			if host == "far" && (!up || decl == nil || decl.Spec.Address != "tcp://192.0.2.1:2375") {
				return nil, errFake("dial tcp 192.0.2.1:2375: connection refused")
			}
			return e, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Go(t, c.Run)
	c.SetObjects(objs[0].Source.File, objs)
	phase := func(kind string) Phase {
		for _, s := range c.Status() {
			if s.Key.Kind == kind {
				return s.Phase
			}
		}
		return ""
	}
	testutil.Eventually(t, 2*time.Second, "host and volume Unknown", func() bool { return phase(spec.KindHost) == Unknown && phase(spec.KindVolume) == Unknown })
	mu.Lock()
	up = true
	mu.Unlock()
	testutil.Eventually(t, 2*time.Second, "host and volume Ready", func() bool { return phase(spec.KindHost) == Ready && phase(spec.KindVolume) == Ready })
}

func TestEditedBuildContextRebuildsAndRecreates(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, out := newController(t, e, Options{})
	objs := manifest(t, dir, "app.yaml", appYAML)
	ctxDir := filepath.Join(dir, "app")
	write(t, filepath.Join(ctxDir, "main.go"), "package main\n")
	write(t, filepath.Join(ctxDir, "Dockerfile"), "FROM scratch\n")
	apply(t, c, objs)

	e.ResetCalls()
	c.Resync(context.Background())
	if c.queue.Len() != 0 || e.Mutations() != 0 {
		t.Fatalf("resync of an unchanged context queued %d keys", c.queue.Len())
	}
	out.Reset()
	write(t, filepath.Join(ctxDir, "main.go"), "package main // v2\n")
	e.Rebuild(ctxDir) // the engine's build now yields a new image
	apply(t, c, objs)
	if got := out.lines("rebuild"); len(got) != 1 || got[0] != "rebuild image/app: build context changed: main.go" {
		t.Fatalf("rebuild lines %q\n%s", got, out.String())
	}
	if got := out.lines("recreate"); len(got) != 2 {
		t.Fatalf("recreate lines %q", got)
	}
}

func TestCrashLoopFailsTheApply(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	objs := manifest(t, dir, "app.yaml", appYAML)
	c, _ := newController(t, e, Options{})
	apply(t, c, objs)
	e.SetState("worker", engine.StateRestarting, 1, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.SetObjects(objs[0].Source.File, nil) // re-declare: reconcile everything again
	_, err := c.ApplyOnce(ctx, objs, nil)
	if err == nil || !strings.Contains(err.Error(), "container/worker: Failed: crash-looping: exited with code 1, restarted 5 times") {
		t.Fatalf("apply: %v", err)
	}
}

// A connection lost in the middle of a reconcile (the engine answers
// ErrUnavailable) makes the object Unknown, not Failed, and it heals once
// the engine answers again.
func TestLostConnectionIsUnknown(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	objs := manifest(t, dir, "v.yaml", "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: v}\n")
	for range 5 { // about 300 ms of retries at a 10 ms base backoff
		e.FailNext("EnsureVolume", fmt.Errorf("%w: create volume on tcp://far: connection reset by peer", engine.ErrUnavailable))
	}
	testutil.Go(t, c.Run)
	seen := map[Phase]bool{}
	c.SetObjects(objs[0].Source.File, objs)
	testutil.Eventually(t, 3*time.Second, "volume Unknown, then Ready", func() bool {
		for _, s := range c.Status() {
			seen[s.Phase] = true
		}
		return seen[Unknown] && seen[Ready]
	})
	if seen[Failed] {
		t.Fatalf("a lost connection marked the volume Failed: %+v", c.Status())
	}
}

// TestReadyWakesWaitingContainers: however an image or volume becomes
// Ready (its own reconcile, or a resync finding it present), the
// containers that use it are queued at once, not after their wait retry.
func TestReadyWakesWaitingContainers(t *testing.T) {
	dir := t.TempDir()
	objs := manifest(t, dir, "app.yaml", appYAML)
	c, _ := newController(t, fake.New(), Options{})
	c.SetObjects(filepath.Join(dir, "app.yaml"), objs)
	drain := func() map[string]bool {
		got := map[string]bool{}
		for c.queue.Len() > 0 {
			k, _ := c.queue.Get(context.Background())
			got[k.Kind+"/"+k.Name] = true
			c.queue.Done(k)
		}
		return got
	}
	drain()
	for _, o := range objs {
		switch o.Key.Kind {
		case spec.KindImage:
			c.markReady(o.Key, o, func(*ObjectStatus) {})
			if got := drain(); !got["Container/web"] || !got["Container/worker"] || len(got) != 2 {
				t.Errorf("image ready queued %v, want its two containers", got)
			}
		case spec.KindVolume:
			c.markReady(o.Key, o, func(*ObjectStatus) {})
			if got := drain(); !got["Container/web"] || len(got) != 1 {
				t.Errorf("volume %s ready queued %v, want container web", o.Key.Name, got)
			}
		}
	}
	// Ready again (a resync of a converged host) queues nothing.
	for _, o := range objs {
		c.markReady(o.Key, o, func(*ObjectStatus) {})
	}
	if got := drain(); len(got) != 0 {
		t.Errorf("a second ready queued %v", got)
	}
}

// TestInterruptedRecreateResumes: a recreate renames the old container
// out of the way before it creates the new one, so one that stops there
// (here the create fails; a crash would do the same) leaves the old
// container, with its volumes, for the next apply, of another process,
// to replace.
func TestInterruptedRecreateResumes(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	c, _ := newController(t, e, Options{})
	apply(t, c, manifest(t, dir, "app.yaml", appYAML))
	oldID := containerID(t, e, "web")

	edited := manifest(t, dir, "app.yaml", strings.Replace(appYAML, `value: "8080"`, `value: "9090"`, 1))
	for range 1000 {
		e.FailNext("CreateContainer", errFake("the engine went away"))
	}
	c2, _ := newController(t, e, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := c2.ApplyOnce(ctx, edited, nil); err == nil || !strings.Contains(err.Error(), "the engine went away") {
		t.Fatalf("apply with a failing create: %v", err)
	}
	e.ClearFailures()
	ctx = context.Background()
	cs, _ := e.Containers(ctx, map[string]string{engine.LabelName: "web"})
	if len(cs) != 1 || cs[0].ID != oldID || cs[0].Name != oldID[:12]+"_web" || cs[0].State != engine.StateExited {
		t.Fatalf("after the failed create, web's containers are %+v; want the old one, stopped, renamed %s_web", cs, oldID[:12])
	}

	c3, out := newController(t, e, Options{})
	apply(t, c3, edited)
	if id := containerID(t, e, "web"); id == oldID || !running(e, "web") {
		t.Fatalf("web is %s, running %v; want a new container running", id, running(e, "web"))
	}
	if got := out.lines("recreate"); len(got) != 1 || got[0] != "recreate container/web: replacing "+oldID[:12]+"_web" {
		t.Fatalf("recreate lines %q", got)
	}
}
