package layerstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

func TestLayersImagesAndTags(t *testing.T) {
	s := openStore(t)
	base := addLayer(t, s, "", gz(t, tarOf(t, [2]string{"etc/", ""}, [2]string{"etc/passwd", "root:x:0:0"}, [2]string{"bin/", ""}, [2]string{"bin/sh", "ELF"})))
	if base.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" || base.ChainID != base.DiffID {
		t.Fatalf("base layer = %+v", base)
	}
	child := addLayer(t, s, base.ChainID, tarOf(t, [2]string{"etc/.wh.passwd", ""}, [2]string{"app/", ""}, [2]string{"app/run", "go"}))
	if child.ChainID != ChainID(base.ChainID, child.DiffID) || child.MediaType != "application/vnd.oci.image.layer.v1.tar" {
		t.Fatalf("child layer = %+v", child)
	}
	img := mkImage(t, s, []Layer{base, child}, "", "app", "registry.example:5000/team/app:v1")
	if !slices.Equal(img.RepoTags, []string{"app:latest", "registry.example:5000/team/app:v1"}) {
		t.Fatalf("tags = %v", img.RepoTags)
	}
	cfg, _ := s.RawConfig(img)
	if img.ID != digest.FromBytes(cfg) {
		t.Fatal("image ID is not the config digest")
	}
	for _, ref := range []string{"app", "app:latest", "docker.io/library/app", "registry.example:5000/team/app:v1", img.ID.String(), img.ID.Encoded()[:12]} {
		got, err := s.Resolve(ref)
		if err != nil || got.ID != img.ID {
			t.Fatalf("Resolve(%q) = %v, %v", ref, got, err)
		}
	}
	if got, err := s.Resolve("any/name@" + img.ManifestDigest.String()); err != nil || got.ID != img.ID {
		t.Fatalf("Resolve by manifest digest = %v, %v", got, err)
	}
	if _, err := s.Resolve("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve(nope) = %v, want ErrNotFound", err)
	}
	dirs, err := s.LowerDirs(img)
	if err != nil || len(dirs) != 2 {
		t.Fatalf("LowerDirs = %v %v", dirs, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); string(b) != "root:x:0:0" {
		t.Fatalf("base content = %q", b)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dirs[1], "etc/passwd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Fatalf("whiteout in the child layer: %v mode %o", err, st.Mode)
	}

	// A reopened store sees the same, and the layout is OCI.
	s2, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	list, err := s2.List()
	if err != nil || len(list) != 1 || list[0].ID != img.ID || len(list[0].Layers) != 2 || list[0].Layers[1].TarSize == 0 {
		t.Fatalf("List after reopen = %+v, %v", list, err)
	}
	for _, f := range []string{"oci-layout", "index.json", "blobs/sha256/" + img.ID.Encoded(), "blobs/sha256/" + base.Digest.Encoded()} {
		if _, err := os.Stat(filepath.Join(s.Root(), f)); err != nil {
			t.Fatalf("layout file %s: %v", f, err)
		}
	}

	// Tags move; the image left without tags stays (dangling).
	other := mkImage(t, s, []Layer{base}, "", "app")
	old, _ := s.Resolve(img.ID.String())
	if !slices.Equal(old.RepoTags, []string{"registry.example:5000/team/app:v1"}) {
		t.Fatalf("old image tags = %v", old.RepoTags)
	}
	if err := s.Tag("app", "app:2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Resolve("app:2"); got == nil || got.ID != other.ID {
		t.Fatalf("Tag: app:2 = %v", got)
	}
	if err := s.Tag("app", "UPPER"); err == nil {
		t.Fatal("invalid tag accepted")
	}
}

func TestAddLayerIdempotentAndVerified(t *testing.T) {
	s := openStore(t)
	b := tarOf(t, [2]string{"f", "1"})
	l1 := addLayer(t, s, "", b)
	l2, err := s.AddLayer(context.Background(), "", bytes.NewReader(b), l1.DiffID)
	if err != nil || l2 != l1 {
		t.Fatalf("second add = %+v, %v; want %+v", l2, err, l1)
	}
	// Same diff, gzip'd: same chain, a second blob.
	l3 := addLayer(t, s, "", gz(t, b))
	if l3.ChainID != l1.ChainID || l3.Digest == l1.Digest {
		t.Fatalf("gzip'd layer = %+v", l3)
	}
	zw, _ := zstd.NewWriter(nil)
	l4 := addLayer(t, s, "", zw.EncodeAll(b, nil))
	if l4.ChainID != l1.ChainID || l4.MediaType != "application/vnd.oci.image.layer.v1.tar+zstd" {
		t.Fatalf("zstd layer = %+v", l4)
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 1 {
		t.Fatalf("%d layer dirs, want 1", n)
	}
	_, err = s.AddLayer(context.Background(), "", bytes.NewReader(tarOf(t, [2]string{"g", "2"})), l1.DiffID)
	if err == nil {
		t.Fatal("diff ID mismatch accepted")
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 1 {
		t.Fatalf("a mismatched layer became visible: %d layer dirs", n)
	}
	if _, err := s.AddLayer(context.Background(), digest.FromString("x"), bytes.NewReader(b), ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing parent: %v", err)
	}
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
		t.Fatalf("tmp/ not cleaned: %d entries", n)
	}
}

func TestHostileLayerLeavesNothing(t *testing.T) {
	s := openStore(t)
	outside := filepath.Join(filepath.Dir(s.Root()), "escaped")
	_, err := s.AddLayer(context.Background(), "", bytes.NewReader(tarOf(t, [2]string{"../escaped", "x"})), "")
	if err == nil {
		t.Fatal("layer escaping its directory accepted")
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatal("file written outside the layer")
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 0 {
		t.Fatalf("half layer visible: %d layer dirs", n)
	}
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
		t.Fatalf("tmp/ not cleaned: %d entries", n)
	}
}

func TestOpenCleansCrashLeftovers(t *testing.T) {
	s := openStore(t)
	junk := filepath.Join(s.Root(), "tmp", "layer-crashed")
	os.MkdirAll(filepath.Join(junk, "diff", "half"), 0o755)
	os.WriteFile(filepath.Join(s.Root(), "tmp", "file-123"), []byte("partial"), 0o600)
	// A live writer's temp folder (flocked) is left alone.
	live, release, err := s.TempDir("layer-")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := Open(s.Root()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(junk); err == nil {
		t.Fatal("crashed write not cleaned")
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatal("a live write was removed")
	}
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 1 {
		t.Fatalf("tmp/ has %d entries, want only the live one", n)
	}
}

func TestBuildCache(t *testing.T) {
	s := openStore(t)
	img := mkImage(t, s, []Layer{addLayer(t, s, "", tarOf(t, [2]string{"f", "1"}))}, "")
	if _, ok := s.CacheGet("k"); ok {
		t.Fatal("empty cache hit")
	}
	if err := s.CachePut("k", img.ID); err != nil {
		t.Fatal(err)
	}
	if id, ok := s.CacheGet("k"); !ok || id != img.ID {
		t.Fatalf("CacheGet = %v %v", id, ok)
	}
	if err := s.CachePut("k2", digest.FromString("nope")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CachePut of a missing image: %v", err)
	}
}

// Ten images on one base store the base once: bytes on disk grow by the
// small top layers only.
func TestTenImagesShareTheBase(t *testing.T) {
	s := openStore(t)
	big := make([]byte, 4<<20)
	rand.Read(big)
	before := diskUsage(t, s.Root())
	base := addLayer(t, s, "", tarOf(t, [2]string{"base.bin", string(big)}))
	mkImage(t, s, []Layer{base}, "", "base")
	oneBase := diskUsage(t, s.Root()) - before
	for i := range 10 {
		top := addLayer(t, s, base.ChainID, tarOf(t, [2]string{fmt.Sprintf("app%d", i), "small"}))
		mkImage(t, s, []Layer{base, top}, "", fmt.Sprintf("app%d", i))
	}
	total := diskUsage(t, s.Root()) - before
	t.Logf("base stored: %d bytes; base + 10 images: %d bytes", oneBase, total)
	if total > oneBase+oneBase/4 {
		t.Fatalf("ten images on one base use %d bytes, the base alone %d: the base is not shared", total, oneBase)
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 11 {
		t.Fatalf("%d layer dirs, want 11 (one base, ten tops)", n)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	if got["reconciler_layerstore_layers"] != 11 || got["reconciler_layerstore_images"] != 11 ||
		got["reconciler_layerstore_shared_bytes_saved"] != float64(10*len(big)) {
		t.Fatalf("metrics = %v", got)
	}
}

// Concurrent imports of the same layer end with one directory, and every
// caller gets the layer.
func TestConcurrentAddLayer(t *testing.T) {
	s := openStore(t)
	b := tarOf(t, [2]string{"d/", ""}, [2]string{"d/f", "same"})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := s.AddLayer(context.Background(), "", bytes.NewReader(b), "")
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 1 {
		t.Fatalf("%d layer dirs, want 1", n)
	}
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
		t.Fatalf("tmp/ holds %d entries", n)
	}
}
