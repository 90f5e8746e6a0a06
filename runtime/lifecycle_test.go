package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
)

func TestCreateStartExitLogs(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	id := mustCreate(t, r, hostSpec("web", "echo hello; sleep 0.05; echo oops >&2; sleep 0.05; echo bye; exit 3"))
	if _, err := r.Create(ctx, hostSpec("web", "true")); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), id) {
		t.Fatalf("duplicate name: %v, want ErrConflict naming %s", err, id)
	}
	c, err := r.Inspect("web")
	if err != nil || c.ID != id || c.State.Status != StateCreated {
		t.Fatalf("inspect created: %+v %v", c, err)
	}
	if got, _ := r.Resolve(id[:10]); got != id {
		t.Errorf("resolve by prefix = %q", got)
	}
	att, err := r.Attach(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, r, "web")
	got := readAll(t, att)
	if strings.Join(got, "|") != "stdout:hello|stderr:oops|stdout:bye" {
		t.Errorf("attach = %q", got)
	}
	if code := waitExit(t, r, id); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	c, _ = r.Inspect(id)
	if c.State.Status != StateExited || c.State.ExitCode != 3 || c.State.StartedAt.IsZero() || c.State.FinishedAt.Before(c.State.StartedAt) {
		t.Errorf("state after exit: %+v", c.State)
	}
	tail := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: 2})))
	if strings.Join(tail, "|") != "stderr:oops|stdout:bye" {
		t.Errorf("logs --tail 2 = %q", tail)
	}
	out := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll, Stdout: true, Follow: true})))
	if strings.Join(out, "|") != "stdout:hello|stdout:bye" {
		t.Errorf("logs stdout of exited container (follow ends at once) = %q", out)
	}
	// A second start appends to the same log.
	mustStart(t, r, id)
	waitExit(t, r, id)
	if all := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll}))); len(all) != 6 {
		t.Errorf("after two runs: %d lines, want 6: %q", len(all), all)
	}
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("container dir left: %v", err)
	}
	if _, err := r.Inspect("web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("inspect removed: %v", err)
	}
	if _, err := r.Create(ctx, hostSpec("web", "true")); err != nil {
		t.Errorf("name reuse after remove: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestStopKillRemove(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	id := mustCreate(t, r, hostSpec("sleeper", "exec sleep 1000"))
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	if c.State.Status != StateRunning || c.State.Pid == 0 || !shim.Alive(c.State.ShimPid, c.State.ShimStartTime) {
		t.Fatalf("running state: %+v", c.State)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Errorf("start of a running container: %v", err)
	}
	if err := r.Remove(ctx, id, false); !errors.Is(err, ErrConflict) {
		t.Errorf("remove running: %v, want ErrConflict", err)
	}
	if err := r.Stop(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	c, _ = r.Inspect(id)
	if c.State.Status != StateExited || c.State.ExitCode != 143 {
		t.Errorf("after stop: %+v, want exited 143 (SIGTERM)", c.State)
	}
	eventually(t, "the shim done with it", func() bool { return !shim.Serving(c.Dir, c.State) })

	// A process ignoring the stop signal is killed after the grace time.
	stubborn := mustCreate(t, r, hostSpec("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done"))
	att, _ := r.Attach(ctx, stubborn)
	mustStart(t, r, stubborn)
	e, err := att.Next()
	if err != nil || string(e.Line) != "ready\n" {
		t.Fatalf("first line: %q %v", e.Line, err)
	}
	begin := time.Now()
	if err := r.Stop(ctx, stubborn, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 300*time.Millisecond {
		t.Errorf("stop returned after %v, before the grace time", d)
	}
	if c, _ := r.Inspect(stubborn); c.State.ExitCode != 137 {
		t.Errorf("stubborn exit %d, want 137 (SIGKILL)", c.State.ExitCode)
	}
	att.Close()

	// Kill with a custom signal; force-remove a running container.
	k := mustCreate(t, r, hostSpec("kk", "exec sleep 1000"))
	if err := r.Kill(ctx, k, "USR1"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill created: %v, want ErrNotRunning", err)
	}
	mustStart(t, r, k)
	if err := r.Kill(ctx, k, "SIGUSR1"); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, r, k); code != 128+10 {
		t.Errorf("exit after SIGUSR1: %d", code)
	}
	mustStart(t, r, k)
	kc, _ := r.Inspect(k)
	if err := r.Remove(ctx, k, true); err != nil {
		t.Fatal(err)
	}
	if shim.Serving(kc.Dir, kc.State) {
		t.Errorf("its shim still serves a force-removed container")
	}
	r.mu.Lock()
	if n := len(r.locks); n != 0 {
		t.Errorf("%d container locks kept with no operation running", n)
	}
	r.mu.Unlock()
}

func TestStartFailureIsRecorded(t *testing.T) {
	r := newRuntime(t, true)
	id := mustCreate(t, r, Spec{Name: "nope", Args: []string{"/does/not/exist"}})
	waited := make(chan int, 1)
	go func() {
		code, _ := r.Wait(ctxT(t, 10*time.Second), id, WaitNextExit)
		waited <- code
	}()
	time.Sleep(20 * time.Millisecond)
	err := r.Start(context.Background(), id)
	if code := <-waited; code != 127 {
		t.Errorf("next-exit wait across a failed start = %d, want 127", code)
	}
	if err == nil || !strings.Contains(err.Error(), "/does/not/exist") {
		t.Fatalf("start error: %v", err)
	}
	c, _ := r.Inspect(id)
	if c.State.Status != StateCreated || c.State.ExitCode != 127 || c.State.Error == "" {
		t.Errorf("state after failed start: %+v", c.State)
	}
}

func TestRestartPolicies(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	s := hostSpec("flaky", "echo run; exit 2")
	s.RestartPolicy = RestartPolicy{Name: RestartOnFailure, MaxRetries: 2}
	id := mustCreate(t, r, s)
	begin := time.Now()
	mustStart(t, r, id)
	eventually(t, "on-failure retries", func() bool {
		c, _ := r.Inspect(id)
		return c.State.Status == StateExited && c.State.StartCount == 3
	})
	// Backoff: 100 ms, then 200 ms.
	if d := time.Since(begin); d < 300*time.Millisecond {
		t.Errorf("3 runs in %v: backoff not applied", d)
	}
	c, _ := r.Inspect(id)
	if c.State.RestartCount != 2 || c.State.ExitCode != 2 {
		t.Errorf("on-failure:2 state: %+v", c.State)
	}
	if got := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll}))); len(got) != 3 {
		t.Errorf("log of 3 runs: %q", got)
	}

	// on-failure does not restart a success; always does, until stopped.
	ok := hostSpec("ok", "exit 0")
	ok.RestartPolicy.Name = RestartOnFailure
	okID := mustCreate(t, r, ok)
	mustStart(t, r, okID)
	if code := waitExit(t, r, okID); code != 0 {
		t.Errorf("exit %d", code)
	}
	if c, _ := r.Inspect(okID); c.State.StartCount != 1 {
		t.Errorf("on-failure restarted a clean exit: %+v", c.State)
	}

	a := hostSpec("always", "exit 0")
	a.RestartPolicy.Name = RestartAlways
	aID := mustCreate(t, r, a)
	mustStart(t, r, aID)
	eventually(t, "always restarts", func() bool {
		c, _ := r.Inspect(aID)
		return c.State.RestartCount >= 2
	})
	if err := r.Stop(ctx, aID, time.Second); err != nil {
		t.Fatal(err)
	}
	c, _ = r.Inspect(aID)
	if c.State.Status != StateExited || !c.State.ManualStop {
		t.Fatalf("after stop: %+v", c.State)
	}
	n := c.State.StartCount
	time.Sleep(500 * time.Millisecond)
	if c, _ := r.Inspect(aID); c.State.StartCount != n {
		t.Errorf("a stopped always-container was restarted: %+v", c.State)
	}
	// A user start resets the restart count.
	mustStart(t, r, aID)
	if c, _ := r.Inspect(aID); c.State.RestartCount != 0 || c.State.ManualStop {
		t.Errorf("after user start: %+v", c.State)
	}
	if err := r.Kill(ctx, aID, "KILL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "kill ends the policy", func() bool {
		c, _ := r.Inspect(aID)
		return c.State.Status == StateExited
	})
}

func TestWaitConditions(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	id := mustCreate(t, r, hostSpec("ww", "sleep 0.2; exit 7"))
	// docker run sends wait(next-exit) before start.
	res := make(chan int, 1)
	go func() {
		code, _ := r.Wait(ctxT(t, 10*time.Second), id, WaitNextExit)
		res <- code
	}()
	time.Sleep(50 * time.Millisecond)
	mustStart(t, r, id)
	if code := <-res; code != 7 {
		t.Errorf("next-exit = %d, want 7", code)
	}
	if code, err := r.Wait(ctx, id, WaitNotRunning); err != nil || code != 7 {
		t.Errorf("not-running on exited = %d %v", code, err)
	}
	// Counted from before the start, the exit that already happened counts.
	if code, err := r.WaitFrom(ctxT(t, time.Second), id, WaitNextExit, 0); err != nil || code != 7 {
		t.Errorf("WaitFrom(next-exit, 0) = %d %v", code, err)
	}
	go func() {
		code, _ := r.Wait(ctxT(t, 10*time.Second), id, WaitRemoved)
		res <- code
	}()
	time.Sleep(50 * time.Millisecond)
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if code := <-res; code != 7 {
		t.Errorf("removed = %d", code)
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	id2 := mustCreate(t, r, hostSpec("w2w", "true"))
	if _, err := r.Wait(cctx, id2, WaitNextExit); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait with a deadline: %v", err)
	}
}

func TestEventsAndMetrics(t *testing.T) {
	r := newRuntime(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := r.Subscribe(ctx)
	s := hostSpec("ev", "exit 1")
	s.RestartPolicy = RestartPolicy{Name: RestartOnFailure, MaxRetries: 1}
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	eventually(t, "two runs", func() bool {
		c, _ := r.Inspect(id)
		return c.State.Status == StateExited && c.State.StartCount == 2
	})
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) == 0 || got[len(got)-1] != "destroy" {
		select {
		case e := <-ev:
			if e.ID != id || e.Labels["test"] != "yes" || e.Name != "ev" {
				t.Errorf("event %+v", e)
			}
			a := e.Action
			if a == "die" {
				a += "(" + e.Attributes["exitCode"] + ")"
			}
			got = append(got, a)
		case <-timeout:
			t.Fatalf("events so far: %v", got)
		}
	}
	want := "create start die(1) start restart die(1) destroy"
	if strings.Join(got, " ") != want {
		t.Errorf("events = %q, want %q", strings.Join(got, " "), want)
	}
	text := gather(t, r)
	for _, wantLine := range []string{
		"reconciler_container_starts_total 2",
		"reconciler_container_restarts_total 1",
		`reconciler_container_exits_total{code="1"} 2`,
		"reconciler_container_start_duration_seconds_count 1",
		`reconciler_containers{state="exited"} 0`,
	} {
		if !strings.Contains(text, wantLine) {
			t.Errorf("metrics lack %q:\n%s", wantLine, text)
		}
	}
}

func TestValidation(t *testing.T) {
	r := newRuntime(t, true)
	for _, s := range []Spec{
		{Name: "x"},
		{Name: "bad name", Args: []string{"true"}},
		{Name: "x", Args: []string{"true"}, RestartPolicy: RestartPolicy{Name: "sometimes"}},
		{Name: "x", Args: []string{"true"}, Mounts: []Mount{{Type: MountBind, Source: "rel", Target: "/a"}}},
		{Name: "x", Args: []string{"true"}, StopSignal: "SIGNOPE"},
		{ID: "short", Args: []string{"true"}},
		{Name: "x", Args: []string{"true"}, Resources: Resources{MemoryBytes: 4 << 20}},
	} {
		if _, err := r.Create(context.Background(), s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want ErrInvalid", s, err)
		}
	}
	id, err := r.Create(context.Background(), Spec{Args: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Inspect(id)
	if !nameRE.MatchString(c.Name) || c.Spec.Hostname != id[:12] || c.Spec.StopGrace != 10*time.Second {
		t.Errorf("defaults: %+v", c.Spec)
	}
}

func TestRestartCommand(t *testing.T) {
	r := newRuntime(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := mustCreate(t, r, hostSpec("rs", "exec sleep 1000"))
	mustStart(t, r, id)
	before, _ := r.Inspect(id)
	ev := r.Subscribe(ctx)
	if err := r.Restart(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	after, _ := r.Inspect(id)
	if after.State.Status != StateRunning || after.State.Pid == before.State.Pid || after.State.StartCount != 2 {
		t.Errorf("after restart: %+v (before: pid %d)", after.State, before.State.Pid)
	}
	var got []string
	for len(got) < 5 {
		select {
		case e := <-ev:
			got = append(got, e.Action)
		case <-time.After(5 * time.Second):
			t.Fatalf("events: %v", got)
		}
	}
	if strings.Join(got, " ") != "kill die stop start restart" {
		t.Errorf("restart events = %v, want Docker's kill die stop start restart", got)
	}
}

// A wait for the removal that comes only once the container is gone (its
// request run late on a loaded host) reports the final exit code too; a
// wait on a container never seen still finds none.
func TestWaitRemovedAfterTheRemoval(t *testing.T) {
	r := newRuntime(t, true)
	id := mustCreate(t, r, hostSpec("gone", "exit 3"))
	startToExit(t, r, id, 3)
	if err := r.Remove(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
	if code, err := r.WaitFrom(ctxT(t, 10*time.Second), id, WaitRemoved, 0); code != 3 || err != nil {
		t.Errorf("WaitFrom(removed) after the removal = %d, %v; want 3", code, err)
	}
	if code, err := r.Wait(ctxT(t, 10*time.Second), id, WaitRemoved); code != 3 || err != nil {
		t.Errorf("Wait(removed) after the removal = %d, %v; want 3", code, err)
	}
	if _, err := r.Wait(ctxT(t, 10*time.Second), id, WaitNotRunning); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait(not-running) after the removal: %v, want not found", err)
	}
	if _, err := r.Wait(ctxT(t, 10*time.Second), strings.Repeat("ab", 32), WaitRemoved); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait(removed) on an unknown ID: %v, want not found", err)
	}
}

// docker run --rm waits for removal, registered before start: a container
// that exits and is removed between two looks of the waiter must still
// report its own exit code, never an earlier one.
func TestWaitRemovedReportsFinalExit(t *testing.T) {
	r := newRuntime(t, true)
	for i := range 10 {
		id := mustCreate(t, r, hostSpec(fmt.Sprintf("rm%d", i), "exit 3"))
		res := make(chan int, 1)
		c, _ := r.Inspect(id)
		go func() {
			code, _ := r.WaitFrom(ctxT(t, 10*time.Second), id, WaitRemoved, c.State.ExitCount)
			res <- code
		}()
		mustStart(t, r, id)
		if _, err := r.WaitFrom(ctxT(t, 10*time.Second), id, WaitNextExit, c.State.ExitCount); err != nil {
			t.Fatal(err)
		}
		if err := r.Remove(context.Background(), id, false); err != nil {
			t.Fatal(err)
		}
		if code := <-res; code != 3 {
			t.Fatalf("run %d: wait(removed) = %d, want the final exit code 3", i, code)
		}
	}
}
