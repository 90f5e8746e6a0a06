package layerstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestRemoveAndPruneNeverTouchInUse(t *testing.T) {
	s := openStore(t)
	l1 := addLayer(t, s, "", tarOf(t, [2]string{"base", "b"}))
	l2 := addLayer(t, s, l1.ChainID, tarOf(t, [2]string{"child", "c"}))
	l3 := addLayer(t, s, l1.ChainID, tarOf(t, [2]string{"used", "u"}))
	l4 := addLayer(t, s, "", tarOf(t, [2]string{"dangling", "d"}))
	a := mkImage(t, s, []Layer{l1}, "", "a")
	b := mkImage(t, s, []Layer{l1, l2}, a.ID, "b")
	c := mkImage(t, s, []Layer{l1, l3}, "", "c")
	d := mkImage(t, s, []Layer{l4}, "")
	if err := s.CachePut("step", d.ID); err != nil {
		t.Fatal(err)
	}
	used := map[digest.Digest]bool{c.ID: true}
	s.SetInUse(func() map[digest.Digest]bool { return used })
	layerGone := func(l Layer) bool {
		_, err := os.Stat(filepath.Join(s.Root(), "layers", l.ChainID.Encoded()))
		return errors.Is(err, os.ErrNotExist)
	}

	// A parent's tag goes, the parent stays for its child.
	untagged, deleted, err := s.Remove("a", false)
	if err != nil || !slices.Equal(untagged, []string{"a:latest"}) || len(deleted) != 0 {
		t.Fatalf("rmi a = %v %v %v", untagged, deleted, err)
	}
	if _, _, err := s.Remove(a.ID.String(), true); !errors.Is(err, ErrConflict) {
		t.Fatalf("rmi of an image with a child: %v, want ErrConflict", err)
	}
	// In use: refused, forced untag keeps the image, never deleted.
	if _, _, err := s.Remove("c", false); !errors.Is(err, ErrInUse) {
		t.Fatalf("rmi c (in use) = %v, want ErrInUse", err)
	}
	if u, del, err := s.Remove("c", true); err != nil || len(u) != 1 || len(del) != 0 {
		t.Fatalf("rmi -f c = %v %v %v", u, del, err)
	}
	if _, _, err := s.Remove(c.ID.String(), true); !errors.Is(err, ErrInUse) {
		t.Fatalf("rmi -f ID of an image in use = %v, want ErrInUse", err)
	}
	// The child goes with its untagged parent; shared layers stay.
	_, deleted, err = s.Remove("b", false)
	if err != nil || !slices.Equal(deleted, []digest.Digest{b.ID, a.ID}) {
		t.Fatalf("rmi b = %v %v, want [b a]", deleted, err)
	}
	if !layerGone(l2) || layerGone(l1) || layerGone(l3) {
		t.Fatal("layer GC after rmi b removed the wrong layers")
	}
	// Dangling D goes; C (untagged but in use) stays.
	deleted, reclaimed, err := s.Prune(false)
	if err != nil || !slices.Equal(deleted, []digest.Digest{d.ID}) || reclaimed <= 0 {
		t.Fatalf("prune = %v %d %v", deleted, reclaimed, err)
	}
	if !layerGone(l4) {
		t.Fatal("dangling image's layer kept")
	}
	if _, ok := s.CacheGet("step"); ok {
		t.Fatal("cache entry of a deleted image kept")
	}
	if deleted, _, err := s.Prune(true); err != nil || len(deleted) != 0 {
		t.Fatalf("prune -a with C in use deleted %v (%v)", deleted, err)
	}
	if dirs, err := s.LowerDirs(c); err != nil || len(dirs) != 2 {
		t.Fatalf("in-use image's layers: %v %v", dirs, err)
	}
	// Once unused, everything can go.
	used = nil
	if deleted, _, err := s.Prune(true); err != nil || !slices.Equal(deleted, []digest.Digest{c.ID}) {
		t.Fatalf("prune -a = %v %v", deleted, err)
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 0 {
		t.Fatalf("%d layers left after everything was pruned", n)
	}
	if n := countDir(t, filepath.Join(s.Root(), "blobs", "sha256")); n != 0 {
		t.Fatalf("%d blobs left after everything was pruned", n)
	}
}

// A build adds layers before it creates its image: GC in between must not
// take them.
func TestPruneSparesLayersBeingBuilt(t *testing.T) {
	s := openStore(t)
	l := addLayer(t, s, "", tarOf(t, [2]string{"f", "1"}))
	if _, _, err := s.Prune(true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LayerDir(l.ChainID); err != nil {
		t.Fatalf("layer of a build in progress collected: %v", err)
	}
	mkImage(t, s, []Layer{l}, "", "x")
}
