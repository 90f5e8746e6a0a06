package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
)

func TestLogRotationAndFollow(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	s := hostSpec("chatty", "i=1; while [ $i -le 100 ]; do echo line $i; i=$((i+1)); sleep 0.005; done")
	s.LogMaxSize, s.LogMaxFiles = 1000, 3
	id := mustCreate(t, r, s)
	att, _ := r.Attach(ctx, id)
	mustStart(t, r, id)
	got := readAll(t, att)
	if len(got) != 100 || got[99] != "stdout:line 100" {
		t.Fatalf("attach across rotations: %d lines, last %q", len(got), got[len(got)-1])
	}
	c, _ := r.Inspect(id)
	for _, name := range []string{shim.LogFile, shim.LogFile + ".1", shim.LogFile + ".2"} {
		st, err := os.Stat(filepath.Join(c.Dir, name))
		if err != nil || st.Size() > 1000 {
			t.Errorf("%s: %v (size limit 1000)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(c.Dir, shim.LogFile+".3")); err == nil {
		t.Errorf("more than 3 log files kept")
	}
	kept := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll})))
	if len(kept) == 0 || len(kept) >= 100 || kept[len(kept)-1] != "stdout:line 100" {
		t.Errorf("stored after rotation: %d lines ending %q", len(kept), kept[len(kept)-1])
	}
}

func TestLogsFollowAcrossRestarts(t *testing.T) {
	r := newRuntime(t, true)
	s := hostSpec("again", "echo run; sleep 0.1; exit 1")
	s.RestartPolicy = RestartPolicy{Name: RestartOnFailure, MaxRetries: 2}
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	got := readAll(t, must(r.Logs(ctxT(t, 20*time.Second), id, LogOptions{Tail: logs.TailAll, Follow: true})))
	if fmt.Sprint(got) != "[stdout:run stdout:run stdout:run]" {
		t.Errorf("follow across restarts = %q", got)
	}
}

func TestClosedFollowLeavesNoGoroutine(t *testing.T) {
	r := newRuntime(t, true)
	id := mustCreate(t, r, hostSpec("quiet", "exec sleep 1000"))
	mustStart(t, r, id)
	base := goruntime.NumGoroutine()
	for i := 0; i < 10; i++ {
		s := must(r.Logs(context.Background(), id, LogOptions{Follow: true, Tail: logs.TailAll}))
		s.Close()
		a := must(r.Attach(context.Background(), id))
		a.Close()
	}
	eventually(t, "follow goroutines to end", func() bool { return goruntime.NumGoroutine() <= base+2 })
}

func TestStdin(t *testing.T) {
	for _, host := range []bool{true, false} {
		r := newRuntime(t, host)
		ctx := context.Background()
		var s Spec
		if host {
			s = hostSpec("cat-host", "exec cat")
		} else {
			s = boxSpec(t, "cat-box", "exec cat")
		}
		s.OpenStdin, s.StdinOnce = true, true
		id := mustCreate(t, r, s)
		att, _ := r.Attach(ctx, id)
		mustStart(t, r, id)
		in, err := r.AttachStdin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(in, "hello through stdin")
		in.Close()
		if got := readAll(t, att); fmt.Sprint(got) != "[stdout:hello through stdin]" {
			t.Errorf("host=%v: output %q", host, got)
		}
		if code := waitExit(t, r, id); code != 0 {
			t.Errorf("host=%v: cat exited %d (EOF expected)", host, code)
		}
		// Without OpenStdin there is nothing to attach to.
		plain := mustCreate(t, r, hostSpec("plain-"+fmt.Sprint(host), "exec sleep 100"))
		if _, err := r.AttachStdin(ctx, plain); !errors.Is(err, ErrInvalid) {
			t.Errorf("AttachStdin without OpenStdin: %v", err)
		}
	}
}

func TestStdinStaysOpenWithoutStdinOnce(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	s := hostSpec("cat-open", "exec cat")
	s.OpenStdin = true
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	for _, msg := range []string{"first", "second"} {
		in, err := r.AttachStdin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(in, msg)
		in.Close()
	}
	eventually(t, "both lines", func() bool {
		return len(readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll})))) == 2
	})
	if c, _ := r.Inspect(id); c.State.Status != StateRunning {
		t.Errorf("cat ended although stdin stays open: %+v", c.State)
	}
}
