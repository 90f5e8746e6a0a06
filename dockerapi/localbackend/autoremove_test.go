package localbackend

import (
	"context"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime"
)

// TestResumeAutoRemove: the --rm containers an earlier daemon left (made
// here through the engine, which does not remove them itself) are taken
// over: the one that ran and exited goes at once, the running one once it
// exits; one never started and one without --rm stay.
func TestResumeAutoRemove(t *testing.T) {
	b := newBackend(t)
	buildBusybox(t, b)
	ctx := context.Background()
	mk := func(name string, autoRemove, start bool, cmd ...string) string {
		t.Helper()
		id, err := b.e.CreateContainer(ctx, engine.ContainerConfig{Name: name, Image: "busybox:local", Cmd: cmd, AutoRemove: autoRemove})
		if err != nil {
			t.Fatal(err)
		}
		if start {
			if err := b.e.StartContainer(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	exited := mk("exited", true, true, "true")
	running := mk("running", true, true, "sleep", "1000")
	created := mk("created", true, false, "true")
	kept := mk("kept", false, true, "true")
	for _, id := range []string{exited, kept} {
		if _, err := b.rt().Wait(ctx, id, runtime.WaitNotRunning); err != nil {
			t.Fatal(err)
		}
	}

	b.ResumeAutoRemove()
	gone := func(id string) bool { _, err := b.rt().Inspect(id); return err != nil }
	if !gone(exited) {
		t.Error("an exited --rm container was kept")
	}
	if gone(running) || gone(created) || gone(kept) {
		t.Fatalf("removed too much: running %v, created %v, kept %v", gone(running), gone(created), gone(kept))
	}
	if err := b.rt().Kill(ctx, running, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the running --rm container to go once it exits", func() bool { return gone(running) })
	if gone(created) || gone(kept) {
		t.Errorf("removed a --rm container never started (%v) or one without --rm (%v)", gone(created), gone(kept))
	}
}
