package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Remove frees the ID at once and deletes the directory in the background;
// Close waits for that, and New sweeps what a crash left mid-way.
func TestRemoveDeletesDirectory(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	id, err := r.Create(ctx, Spec{Args: []string{"/bin/true"}})
	if err != nil {
		t.Fatal(err)
	}
	upper, err := r.UpperDir(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(upper, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.dir(id)); !os.IsNotExist(err) {
		t.Fatalf("container directory after Remove: %v", err)
	}
	if _, err := r.Create(ctx, Spec{ID: id, Args: []string{"/bin/true"}}); err != nil {
		t.Fatalf("create with the removed container's ID: %v", err)
	}
	r.Close()
	assertNoRemovedDirs(t, r.Root())

	leftover := filepath.Join(r.Root(), removedDirPrefix+"crashed", "upper", "a")
	if err := os.MkdirAll(leftover, 0o755); err != nil {
		t.Fatal(err)
	}
	r2, err := New(r.Root(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	assertNoRemovedDirs(t, r.Root())
}

func assertNoRemovedDirs(t *testing.T, root string) {
	t.Helper()
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), removedDirPrefix) {
			t.Errorf("%s left in the state root", e.Name())
		}
	}
}
