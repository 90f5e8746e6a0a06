package localbackend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/reconciler/reconciler/dockerapi"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIHostConfig runs the docker CLI's --read-only, --shm-size,
// --ulimit, --cap-drop and update suites against the local engine: real
// containers show the limits inside, real cgroups change.
func TestDockerCLIHostConfig(t *testing.T) {
	runCLISuites(t, cliSuite{"limits", clitest.HostConfigLimits}, cliSuite{"update", clitest.Update})
}

// TestDockerCLIProcessOptions runs the docker CLI's --init, --log-opt,
// --oom-score-adj and --mount options suites against the local engine.
func TestDockerCLIProcessOptions(t *testing.T) {
	runCLISuites(t, cliSuite{"process", clitest.ProcessOptions}, cliSuite{"mount", clitest.MountOptions})
}

// TestBindCreateMountpoint: BindOptions.CreateMountpoint (compose's
// create_host_path) makes a missing bind source; without it the create
// fails as dockerd's does.
func TestBindCreateMountpoint(t *testing.T) {
	b := newBackend(t)
	buildBusybox(t, b)
	src := filepath.Join(t.TempDir(), "new", "dir")
	create := func(name string, opts *mount.BindOptions) error {
		_, err := b.ContainerCreate(context.Background(), dockerapi.ContainerCreateConfig{Name: name,
			Config:     &container.Config{Image: "busybox:local", Cmd: []string{"true"}},
			HostConfig: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: src, Target: "/b", BindOptions: opts}}}})
		return err
	}
	if err := create("plain", nil); err == nil || !strings.Contains(err.Error(), "bind source path does not exist") {
		t.Fatalf("bind of a missing source: %v", err)
	}
	if err := create("created", &mount.BindOptions{CreateMountpoint: true}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		t.Fatalf("CreateMountpoint: source %v", err)
	}
}
