package localbackend

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/clitest"
	"github.com/reconciler/reconciler/dockerapi/server"
)

// TestDockerCLIImagesVolumes runs the docker CLI's image, volume, events
// and df suites against the API server over this backend.
func TestDockerCLIImagesVolumes(t *testing.T) {
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	b := newBackend(t)
	build(t, b, "busybox:local", "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n")
	srv, err := server.New(server.Config{Backend: b, Root: b.e.Root()})
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
	o := clitest.Options{Host: "unix://" + sock, Image: "busybox:local", CLI: cli}
	t.Run("images", func(t *testing.T) { clitest.Images(t, o) })
	t.Run("volumes-events-df", func(t *testing.T) { clitest.VolumesEventsDF(t, o) })
}
