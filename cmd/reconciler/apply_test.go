package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/fake"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/spec"
)

// useFakeEngine points openEngine at an in-memory engine for one test.
func useFakeEngine(t *testing.T) *fake.Engine {
	t.Helper()
	e := fake.New()
	old := openEngine
	openEngine = func(string, bool) (engine.Engine, error) { return e, nil }
	t.Cleanup(func() { openEngine = old })
	return e
}

// A command's engines are opened as long-lived as the command: apply's
// end with it, watch's run on (and keep a spare shim, and inotify).
func TestEnginesOpenAsLongLivedAsTheCommand(t *testing.T) {
	var got []bool
	old := openEngine
	openEngine = func(_ string, longLived bool) (engine.Engine, error) {
		got = append(got, longLived)
		return fake.New(), nil
	}
	t.Cleanup(func() { openEngine = old })
	apply, watch := &engines{}, &engines{longLived: true}
	apply.get("local", nil)
	watch.get("local", nil)
	watch.get("local", nil) // opened once
	if !slices.Equal(got, []bool{false, true}) {
		t.Errorf("opened with longLived %v, want [false true]", got)
	}
}

// run executes the CLI with args and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	err := root.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			errb.WriteString(ee.msg)
		} else {
			errb.WriteString(err.Error())
		}
	}
	return out.String(), errb.String(), code
}

const cliApp = `apiVersion: reconciler/v1
kind: Volume
metadata: {name: data}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  image: docker.io/library/busybox:1.36
  command: [httpd, -f]
  env: [{name: PORT, value: "8080"}]
  volumes: [{name: data, mountPath: /data}]
`

func TestApplyDiffGetDelete(t *testing.T) {
	e := useFakeEngine(t)
	e.AddImage("docker.io/library/busybox:1.36")
	dir := t.TempDir()
	p := filepath.Join(dir, "app.yaml")
	os.WriteFile(p, []byte(cliApp), 0o644)

	if out, _, code := run(t, "diff", "-f", dir); code != 1 || !strings.Contains(out, "+ create container/web") {
		t.Fatalf("diff before apply: code %d\n%s", code, out)
	}
	if out, _, code := run(t, "apply", "-f", dir, "--dry-run"); code != 0 || !strings.Contains(out, "create container/web (dry run)") || e.Mutations() != 0 {
		t.Fatalf("dry run: code %d, %d mutations\n%s", code, e.Mutations(), out)
	}
	out, errs, code := run(t, "apply", "-f", dir)
	if code != 0 || !strings.Contains(out, "create container/web") || !strings.Contains(out, "2 objects ready") {
		t.Fatalf("apply: code %d\n%s%s", code, out, errs)
	}
	if out, _, code := run(t, "diff", "-f", dir); code != 0 || out != "" {
		t.Fatalf("diff after apply: code %d\n%s", code, out)
	}
	os.WriteFile(p, []byte(strings.Replace(cliApp, `"8080"`, `"9090"`, 1)), 0o644)
	out, _, code = run(t, "diff", "-f", p)
	if code != 1 || out != "~ recreate container/web\n    spec.env[PORT]: \"8080\" -> \"9090\"\n" {
		t.Fatalf("diff of an edit: code %d\n%q", code, out)
	}

	out, _, code = run(t, "get")
	if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "web") || !strings.Contains(out, "Ready") {
		t.Fatalf("get: code %d\n%s", code, out)
	}
	if out, _, code := run(t, "get", "container/web", "-o", "json"); code != 0 || !strings.Contains(out, `"status": "Ready"`) {
		t.Fatalf("get -o json: code %d\n%s", code, out)
	}
	if _, _, code := run(t, "get", "container/nope"); code != 1 {
		t.Fatalf("get of a missing object: code %d", code)
	}
	if _, _, code := run(t, "get", "gizmos"); code != 2 {
		t.Fatalf("get of an unknown kind: code %d", code)
	}

	out, _, code = run(t, "delete", "-f", dir)
	if code != 0 || !strings.Contains(out, "remove container/web: deleted") || !strings.Contains(out, "keep volume/data: reclaimPolicy Retain") {
		t.Fatalf("delete: code %d\n%s", code, out)
	}
}

func TestApplyPrune(t *testing.T) {
	e := useFakeEngine(t)
	e.AddImage("docker.io/library/busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(cliApp), 0o644)
	other := strings.ReplaceAll(strings.ReplaceAll(cliApp, "name: web", "name: other"), "name: data", "name: odata")
	os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(other), 0o644)
	if _, errs, code := run(t, "apply", "-f", dir); code != 0 {
		t.Fatalf("apply: %s", errs)
	}
	os.Remove(filepath.Join(dir, "b.yaml"))
	out, _, _ := run(t, "apply", "-f", dir)
	if strings.Contains(out, "remove") {
		t.Fatalf("apply without --prune removed something:\n%s", out)
	}
	out, errs, code := run(t, "apply", "-f", dir, "--prune")
	if code != 0 || !strings.Contains(out, "remove container/other") {
		t.Fatalf("apply --prune: code %d\n%s%s", code, out, errs)
	}
}

func TestNoEngine(t *testing.T) {
	old := openEngine
	openEngine = nil
	defer func() { openEngine = old }()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(cliApp), 0o644)
	_, errs, code := run(t, "apply", "-f", dir, "--timeout", "2s")
	if code != 1 || !strings.Contains(errs, "no engine available for host local") {
		t.Fatalf("code %d: %s", code, errs)
	}
}

func TestWatchCommand(t *testing.T) {
	e := useFakeEngine(t)
	e.AddImage("docker.io/library/busybox:1.36")
	dir := t.TempDir()
	root := newRootCmd()
	var out testutil.SyncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"watch", dir, "--poll", "1h"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- root.ExecuteContext(ctx) }()
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(cliApp), 0o644)
	deadline := time.Now().Add(3 * time.Second)
	for {
		cs, _ := e.Containers(context.Background(), map[string]string{engine.LabelName: "web"})
		if len(cs) == 1 && cs[0].State == engine.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("web not running:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "create container/web") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestGetWatchPrintsChanges(t *testing.T) {
	e := useFakeEngine(t)
	e.AddImage("docker.io/library/busybox:1.36")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(cliApp), 0o644)
	if _, errs, code := run(t, "apply", "-f", dir); code != 0 {
		t.Fatalf("apply: %s", errs)
	}
	root := newRootCmd()
	var out testutil.SyncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"get", "containers", "-w"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- root.ExecuteContext(ctx) }()
	waitOut := func(want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("output lacks %q:\n%s", want, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitOut("running")
	e.Kill("web", 3)
	waitOut("exited with code 3")
	e.Delete("web")
	waitOut("Deleted")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestEnginesWith(t *testing.T) {
	e := fake.New()
	f := enginesWith(e)
	if got, err := f("local", nil); err != nil || got != engine.Engine(e) {
		t.Fatalf("local: %v %v", got, err)
	}
	if _, err := f("far", nil); err == nil || !strings.Contains(err.Error(), "declare it with a Host object") {
		t.Fatalf("undeclared host: %v", err)
	}
	decl := &spec.Host{Spec: spec.HostSpec{Address: "tcp://127.0.0.1:1"}}
	if got, err := f("far", decl); err != nil || got == nil {
		t.Fatalf("declared host: %v %v", got, err)
	}
}
