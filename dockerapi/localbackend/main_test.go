package localbackend

import (
	"archive/tar"
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/internal/testutil"
)

// newBackend opens a local engine on a temporary root and serves it; when
// the test ends every container is removed so no shim outlives it.
func newBackend(t *testing.T) *Backend {
	t.Helper()
	return newBackendAt(t, t.TempDir())
}

// newBackendAt is newBackend on the state root given.
func newBackendAt(t *testing.T, root string) *Backend {
	t.Helper()
	testutil.NeedRoot(t, "overlay mounts, namespaces and shims")
	testutil.NeedBusybox(t)
	e, err := local.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	b := New(e)
	t.Cleanup(func() {
		ctx := context.Background()
		cs, _ := e.Containers(ctx, nil)
		for _, c := range cs {
			e.RemoveContainer(ctx, c.ID, true)
		}
		b.Close()
		e.Close()
	})
	return b
}

// tarFile is one member of a test tar: a regular file unless Link is set
// (a symlink to Link).
type tarFile struct {
	Name, Body, Link string
	Mode             int64
}

func makeTar(t *testing.T, files ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(f.Body)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if f.Link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.Link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// busyboxContext is a build context: Debian's static busybox and a
// Dockerfile copying it FROM scratch, followed by extra instructions.
func busyboxContext(t *testing.T, extra string, more ...tarFile) []byte {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	df := "FROM scratch\nCOPY busybox /bin/busybox\nENV PATH=/bin\n" + extra
	files := append([]tarFile{{Name: "busybox", Body: string(bb), Mode: 0o755}, {Name: "Dockerfile", Body: df}}, more...)
	return makeTar(t, files...)
}

// build runs ImageBuild on a busybox context and returns the image ID.
func build(t *testing.T, b *Backend, tag, extra string) string {
	t.Helper()
	var progress bytes.Buffer
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	id, err := b.ImageBuild(context.Background(), bytes.NewReader(busyboxContext(t, extra)), dockerapi.BuildOptions{Tags: tags}, &progress)
	if err != nil {
		t.Fatalf("build %s: %v\n%s", tag, err, progress.String())
	}
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("build returned ID %q", id)
	}
	return id
}

// serveBusybox serves a new backend holding busybox:local (busybox with
// its applets, CMD sh) over the API on a unix socket until the test ends,
// and returns the socket's -H address.
func serveBusybox(t *testing.T) string {
	t.Helper()
	b := newBackend(t)
	buildBusybox(t, b)
	return serve(t, b, b.e.Root())
}

// buildBusybox builds busybox:local: busybox with its applets, CMD sh.
func buildBusybox(t *testing.T, b *Backend) {
	t.Helper()
	build(t, b, "busybox:local", "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n")
}

// serve serves backend (of the state root root) over the API on a unix
// socket until the test ends, and returns the socket's -H address.
func serve(t *testing.T, backend dockerapi.Backend, root string) string {
	t.Helper()
	srv, err := server.New(server.Config{Backend: backend, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "unix://" + sock
}
