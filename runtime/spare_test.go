package runtime

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
)

// A shim whose container is done becomes a spare again: the next
// container runs under the same process, with its own log and state,
// and nothing of the last one (its log, its descriptors) stays open in
// the shim.
func TestShimServesContainersInTurn(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	var shimPid int
	var fds []string
	for i, word := range []string{"first", "second", "third"} {
		id := mustCreate(t, r, boxSpec(t, word, "echo "+word))
		mustStart(t, r, id)
		if code := waitExit(t, r, id); code != 0 {
			t.Fatalf("%s: exit %d", word, code)
		}
		c, _ := r.Inspect(id)
		if got := readAll(t, must(r.Logs(ctx, id, LogOptions{Tail: logs.TailAll}))); !slices.Equal(got, []string{"stdout:" + word}) {
			t.Errorf("%s's log: %q", word, got)
		}
		eventually(t, word+"'s shim done with it", func() bool { return !shim.Serving(c.Dir, c.State) })
		if err := r.Remove(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if i > 0 && c.State.ShimPid != shimPid {
			t.Errorf("%s ran under shim %d, not %d, freed by the container before", word, c.State.ShimPid, shimPid)
		}
		shimPid = c.State.ShimPid
		// Once free again (and done preparing for the next container),
		// the shim holds what a spare holds.
		now := settledFiles(t, shimPid, c.Dir)
		if i > 0 && len(now) != len(fds) {
			t.Errorf("after %s the free shim holds %d files, %d before:\n%s", word, len(now), len(fds), strings.Join(now, "\n"))
		}
		fds = now
	}
}

// settledFiles waits until process pid holds nothing in dir and the same
// number of descriptors for a while, and lists them.
func settledFiles(t *testing.T, pid int, dir string) []string {
	t.Helper()
	var last []string
	same := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		now := openFiles(pid)
		if slices.ContainsFunc(now, func(f string) bool { return strings.Contains(f, dir) }) || len(now) != len(last) {
			last, same = now, 0
			continue
		}
		if same++; same == 3 {
			return now
		}
	}
	t.Fatalf("shim %d never settled: it holds\n%s", pid, strings.Join(last, "\n"))
	return nil
}

// openFiles lists what the descriptors of process pid point to.
func openFiles(pid int) []string {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil {
			out = append(out, e.Name()+" "+l)
		}
	}
	return out
}

// A runtime that closes lets the shims it started go: one serving a
// container exits once that container is done, instead of waiting to be
// given another that will never come.
func TestShimExitsAfterItsRuntimeClosed(t *testing.T) {
	r := newRuntime(t, false)
	id := mustCreate(t, r, boxSpec(t, "brief", "sleep 0.3"))
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	r.Close()
	eventually(t, "the shim to exit after its container", func() bool {
		return !shim.Alive(c.State.ShimPid, c.State.ShimStartTime)
	})
}

// A shim gets two Ps for a lone start, one while other starts are under
// way.
func TestShimProcsFollowConcurrentStarts(t *testing.T) {
	var r Runtime
	for starting, want := range map[int32]int{0: 2, 1: 2, 2: 1, 8: 1} {
		r.starting.Store(starting)
		if got := r.shimProcs(); got != want {
			t.Errorf("%d starts under way: %d Ps, want %d", starting, got, want)
		}
	}
}
