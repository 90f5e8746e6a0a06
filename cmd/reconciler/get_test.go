package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/internal/testutil"
)

// withDaemonFlags sets the daemon services' flags (--watch and friends)
// for one test, as `reconciler daemon ARGS` would, and puts their
// defaults back when it ends.
func withDaemonFlags(t *testing.T, args ...string) {
	t.Helper()
	define := func() *pflag.FlagSet {
		fs := pflag.NewFlagSet("daemon", pflag.ContinueOnError)
		for _, svc := range daemonServices {
			if svc.flags != nil {
				svc.flags(fs) // defining a flag sets its variable to the default
			}
		}
		return fs
	}
	if err := define().Parse(args); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { define() })
}

const getGoodBad = `apiVersion: reconciler/v1
kind: Container
metadata: {name: good}
spec:
  image: bb:1
  command: [sleep, "300"]
  stopGracePeriod: 1s
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: bad}
spec:
  image: 127.0.0.1:1/nosuch:1
  command: [sleep, "300"]
`

// TestGetShowsControllerStatus: with a daemon running --watch on the root,
// get shows what its controller knows (Failed with the error for a
// container whose image cannot be had, Ready for a good one); once the
// daemon is gone, get falls back to the engine's labels.
func TestGetShowsControllerStatus(t *testing.T) {
	root := containerRoot(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(getGoodBad), 0o644); err != nil {
		t.Fatal(err)
	}
	withDaemonFlags(t, "--watch", dir, "--poll", "1h")
	d := startDaemon(t, daemonOptions{root: root, hosts: []string{"unix://" + filepath.Join(root, "run", "test.sock")}})

	var out, errs string
	var code int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, errs, code = runOnRoot(root, "", "get", "containers")
		if code == 0 && lineHas(out, "good", "Ready") && lineHas(out, "bad", "Failed", "127.0.0.1:1/nosuch:1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get never showed good Ready and bad Failed with its error: code %d\n%s%s", code, out, errs)
		}
	}
	if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "MESSAGE") {
		t.Errorf("get lost its table header:\n%s", out)
	}
	if _, errs, _ := runOnRoot(root, "", "get", "-o", "wide"); !strings.Contains(errs, "Status from the controller of the daemon at unix://"+rootSocket(root)) {
		t.Errorf("get -o wide does not say it shows the controller's view: %q", errs)
	}
	out, errs, code = runOnRoot(root, "", "get", "container/bad", "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 0 || len(rows) != 1 {
		t.Fatalf("get container/bad -o json: code %d, %v\n%s%s", code, err, out, errs)
	}
	if r := rows[0]; r.Status != "Failed" || r.Host != "local" || !strings.Contains(r.LastError, "nosuch") || !strings.HasSuffix(r.Source, "app.yaml") {
		t.Errorf("bad as JSON: %+v", r)
	}
	// -H reaches the same controller through another of the daemon's sockets.
	if out, errs, code := runOnRoot(t.TempDir(), "", "-H", "unix://"+filepath.Join(root, "run", "test.sock"), "get", "container/good"); code != 0 || !lineHas(out, "good", "Ready") {
		t.Errorf("get -H: code %d\n%s%s", code, out, errs)
	}

	// -w follows the controller: a container dropped into the folder shows
	// up as it becomes Ready.
	var watchOut testutil.SyncBuffer
	watch := newRootCmd()
	watch.SetOut(&watchOut)
	watch.SetErr(&watchOut)
	watch.SetArgs([]string{"--root", root, "get", "containers", "-w"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watch.ExecuteContext(ctx) }()
	late := strings.NewReplacer("name: good", "name: late").Replace(strings.Split(getGoodBad, "---")[0])
	if err := os.WriteFile(filepath.Join(dir, "late.yaml"), []byte(late), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !lineHas(watchOut.String(), "late", "Ready"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("get -w never showed late Ready:\n%s", watchOut.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("get -w: %v", err)
	}

	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runOnRoot(root, "", "get", "containers", "-o", "wide")
	// A row named bad, not the word anywhere: a random ID may hold it
	// (21abada66023 did).
	if code != 0 || !lineHas(out, "good", "Ready") || lineHas(out, "bad") || !strings.Contains(errs, "engine labels") {
		t.Errorf("get without a daemon (label view): code %d\n%s%s", code, out, errs)
	}
}

// TestGetFallsBackWithoutController: a daemon without --watch answers 404
// for the status, and get shows the engine's labels through it.
func TestGetFallsBackWithoutController(t *testing.T) {
	withFakeBackend(t)
	root := t.TempDir()
	startDaemon(t, daemonOptions{root: root, hosts: []string{"unix://" + filepath.Join(root, "run", "test.sock")}})
	out, errs, code := runOnRoot(root, "", "get", "-o", "wide")
	if code != 0 || !strings.Contains(errs, "Status from engine labels") {
		t.Errorf("get on a daemon without --watch: code %d\n%s%s", code, out, errs)
	}
}

// lineHas reports whether a line of out starts with name and holds every
// one of words.
func lineHas(out, name string, words ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, name+" ") {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return true
		}
	}
	return false
}
