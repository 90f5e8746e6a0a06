package runtime

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An attach made before start gets every line of a run whose log rotates
// a dozen times while it reads, exactly once and in order, even when the
// container is removed (docker run --rm) as soon as it exits.
//
// The log keeps enough files (20 of 1 MiB) that none of the run's 15 MB
// is deleted while it is read: the follower must find each file by
// identity across the renames, not outrun the deletions. A follower that
// falls behind by more than the files kept loses the oldest unread ones,
// as with Docker's json-file (see logs.Read); with three files, a reader
// starved of CPU on a busy host did (CI, and reproduced under busy loops
// with the code of sessions before).
func TestAttachFollowsManyRotations(t *testing.T) {
	r := newRuntime(t, false)
	ctx := ctxT(t, 60*time.Second)
	const n = 200000
	s := boxSpec(t, "seq", "seq 0 "+strconv.Itoa(n))
	s.LogMaxSize, s.LogMaxFiles = 1<<20, 20
	id := mustCreate(t, r, s)
	att, err := r.Attach(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	removed := make(chan struct{})
	defer func() { <-removed }()
	go func() {
		defer close(removed)
		if _, err := r.WaitFrom(ctx, id, WaitNextExit, 0); err == nil {
			r.Remove(context.Background(), id, true)
		}
	}()
	mustStart(t, r, id)
	for i := 0; ; i++ {
		e, err := att.Next()
		if errors.Is(err, io.EOF) {
			if i != n+1 {
				t.Fatalf("attach delivered %d lines, want %d", i, n+1)
			}
			return
		}
		if err != nil {
			t.Fatalf("attach after %d lines: %v", i, err)
		}
		if got := strings.TrimSuffix(string(e.Line), "\n"); got != strconv.Itoa(i) {
			t.Fatalf("line %d is %q: lost or repeated across a rotation", i, got)
		}
	}
}
