package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A rename frees the old name, refuses a taken or invalid one, emits
// "rename" with the old name, and is what a new Runtime on the root finds.
func TestRenameSurvivesReopen(t *testing.T) {
	r := newRuntime(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := r.Subscribe(ctx)
	id := mustCreate(t, r, hostSpec("old", "sleep 60"))
	other := mustCreate(t, r, hostSpec("other", "true"))
	mustStart(t, r, id)

	if err := r.Rename("old", "new"); err != nil {
		t.Fatal(err)
	}
	if c, err := r.Inspect("new"); err != nil || c.ID != id || c.Name != "new" || !c.State.Running() {
		t.Fatalf("inspect new: %+v, %v", c, err)
	}
	if _, err := r.Inspect("old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name still resolves: %v", err)
	}
	mustCreate(t, r, hostSpec("old", "true")) // the old name is free

	err := r.Rename("new", "other")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `Conflict. The container name "/other" is already in use by container "`+other+`"`) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	for _, bad := range []string{"", "/", "-x", "a b", "new"} {
		if err := r.Rename("new", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("rename to %q: %v, want ErrInvalid", bad, err)
		}
	}

	timeout := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case e := <-ev:
			found = e.Action == "rename"
			if found && (e.ID != id || e.Attributes["name"] != "new" || e.Attributes["oldName"] != "/old") {
				t.Errorf("rename event: %+v", e)
			}
		case <-timeout:
			t.Fatal("no rename event")
		}
	}

	r2, err := New(r.Root(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if c, err := r2.Inspect("new"); err != nil || c.ID != id || c.Name != "new" {
		t.Fatalf("after reopening: %+v, %v", c, err)
	}
}
