package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/layerstore"
)

func openStore(t *testing.T) *layerstore.Store {
	t.Helper()
	testutil.NeedRoot(t, "layers keep ownership")
	s, err := layerstore.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func layerTar(t *testing.T, gzipped bool, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		tw.WriteHeader(&tar.Header{Name: k, Mode: 0o644, Size: int64(len(files[k])), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(files[k]))
	}
	tw.Close()
	if !gzipped {
		return buf.Bytes()
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(buf.Bytes())
	w.Close()
	return z.Bytes()
}

// startRegistry serves go-containerregistry's in-process registry on a
// loopback port for the test.
func startRegistry(t *testing.T) string {
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func metric(t *testing.T, want string) float64 {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == want {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	src := openStore(t)
	l1, err := src.AddLayer(ctx, "", bytes.NewReader(layerTar(t, true, map[string]string{"etc/hello": "hi"})), "")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := src.AddLayer(ctx, l1.ChainID, bytes.NewReader(layerTar(t, false, map[string]string{"app/run": "go", "etc/.wh.hello": ""})), "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := src.CreateImage(ctx, ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"/app/run"}}}, []layerstore.Layer{l1, l2}, "", "app:v1")
	if err != nil {
		t.Fatal(err)
	}
	pushedBefore := metric(t, "reconciler_image_push_bytes_total")

	var out bytes.Buffer
	remoteRef := host + "/team/app:v1"
	if err := Push(ctx, src, "app:v1", remoteRef, Options{Insecure: true, Progress: &out}); err != nil {
		t.Fatal(err)
	}
	t.Logf("push:\n%s", out.String())
	if !strings.Contains(out.String(), "v1: digest: "+img.ManifestDigest.String()) {
		t.Fatalf("push progress = %q", out.String())
	}
	r, _ := name.ParseReference(remoteRef, name.Insecure)
	head, err := remote.Head(r, remote.WithContext(ctx))
	if err != nil || head.Digest.String() != img.ManifestDigest.String() {
		t.Fatalf("registry has %v (%v), want manifest %s", head, err, img.ManifestDigest)
	}
	if metric(t, "reconciler_image_push_bytes_total") <= pushedBefore {
		t.Fatal("push bytes not counted")
	}

	dst := openStore(t)
	out.Reset()
	got, err := Pull(ctx, dst, remoteRef, Options{Insecure: true, Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != img.ID || got.ManifestDigest != img.ManifestDigest || !slices.Equal(got.RepoTags, []string{remoteRef}) {
		t.Fatalf("pulled %+v, pushed %s", got, img.ID)
	}
	if c := strings.Count(out.String(), "Pull complete"); c != 2 {
		t.Fatalf("progress = %q", out.String())
	}
	dirs, _ := dst.LowerDirs(got)
	if b, _ := os.ReadFile(filepath.Join(dirs[1], "app/run")); string(b) != "go" {
		t.Fatalf("pulled content %q", b)
	}

	// Pulled again, by digest: nothing downloaded, no tag.
	out.Reset()
	pulledBefore := metric(t, "reconciler_image_pull_bytes_total")
	again, err := Pull(ctx, dst, host+"/team/app@"+img.ManifestDigest.String(), Options{Insecure: true, Progress: &out})
	if err != nil || again.ID != img.ID {
		t.Fatalf("pull by digest: %v %v", again, err)
	}
	if strings.Count(out.String(), "Already exists") != 2 || metric(t, "reconciler_image_pull_bytes_total") != pulledBefore {
		t.Fatalf("second pull downloaded layers: %q", out.String())
	}

	// A pulled image pushes under a new name with the same digest.
	if err := Push(ctx, dst, remoteRef, host+"/other:v2", Options{Insecure: true}); err != nil {
		t.Fatal(err)
	}
	r2, _ := name.ParseReference(host+"/other:v2", name.Insecure)
	if h, err := remote.Head(r2, remote.WithContext(ctx)); err != nil || h.Digest.String() != img.ManifestDigest.String() {
		t.Fatalf("re-push digest %v %v", h, err)
	}
	if _, err := Pull(ctx, dst, host+"/missing:v1", Options{Insecure: true}); err == nil {
		t.Fatal("pull of a missing image succeeded")
	}
	if metric(t, "reconciler_image_pulls_total") < 3 {
		t.Fatal("pulls not counted")
	}
}
