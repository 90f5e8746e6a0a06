package client

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/testpeer"
)

// busyboxRootfs writes a root filesystem tar holding Debian's static
// busybox and its applet links, so images need no network.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	now := time.Now()
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb)), ModTime: now})
	tw.Write(bb)
	for _, applet := range []string{"sh", "sleep", "echo", "cat", "true", "env", "ls"} {
		tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", ModTime: now})
	}
	for _, d := range []string{"tmp/", "data/"} {
		tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now})
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEngineAgainstRealDockerd drives Debian's dockerd, isolated on a temp
// root and loopback, through the engine.Engine interface.
func TestEngineAgainstRealDockerd(t *testing.T) {
	rootfs := busyboxRootfs(t)
	_, d := testpeer.StartDockerd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for name, addr := range map[string]string{"unix": d.Host, "tcp": d.TCP} {
		e, err := Open(addr, nil, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Ping(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.Close()
	}
	e, err := Open(d.Host, nil, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	evs, evErrs := e.Events(evCtx)

	labels := map[string]string{engine.LabelManaged: "true", engine.LabelKind: "Image", engine.LabelName: "bb"}
	img, err := e.EnsureImage(ctx, engine.ImageSource{Tag: "bb:1", Labels: labels, Import: &engine.ImportSource{Path: rootfs}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(img.ID, "sha256:") || img.Labels[engine.LabelName] != "bb" || len(img.RepoTags) != 1 || img.RepoTags[0] != "bb:1" {
		t.Fatalf("imported image: %+v", img)
	}
	if imgs, err := e.Images(ctx, map[string]string{engine.LabelName: "bb"}); err != nil || len(imgs) != 1 || imgs[0].ID != img.ID {
		t.Fatalf("Images by label: %+v %v", imgs, err)
	}

	// Build (classic builder, context sent as a tar) and load a docker-save
	// archive, relabelled and retagged.
	bctx := t.TempDir()
	os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM bb:1\nCOPY msg.txt /msg.txt\nCMD [\"cat\", \"/msg.txt\"]\n"), 0o644)
	os.WriteFile(filepath.Join(bctx, "msg.txt"), []byte("from the context\n"), 0o644)
	var progress strings.Builder
	built, err := e.EnsureImage(ctx, engine.ImageSource{Tag: "bb-built:1", Labels: map[string]string{"stage": "built"}, Build: &engine.BuildSource{Context: bctx}}, &progress)
	if err != nil || built.Labels["stage"] != "built" || !strings.Contains(progress.String(), "COPY msg.txt /msg.txt") {
		t.Fatalf("build: %+v %v\n%s", built, err, progress.String())
	}
	archive := filepath.Join(t.TempDir(), "bb.tar")
	if out, err := d.Docker(ctx, "save", "-o", archive, "bb-built:1"); err != nil {
		t.Fatal(out, err)
	}
	loaded, err := e.EnsureImage(ctx, engine.ImageSource{Tag: "bb-loaded:2", Labels: map[string]string{"stage": "loaded"}, Import: &engine.ImportSource{Path: archive}}, nil)
	if err != nil || loaded.Labels["stage"] != "loaded" || loaded.RepoTags[0] != "bb-loaded:2" {
		t.Fatalf("load: %+v %v", loaded, err)
	}
	if out, err := d.Docker(ctx, "run", "--rm", "--network", "none", "bb-loaded:2"); err != nil || out != "from the context\n" {
		t.Errorf("run loaded image: %q %v", out, err)
	}
	for _, ref := range []string{"bb-loaded:2", "bb-built:1"} {
		if err := e.RemoveImage(ctx, ref); err != nil {
			t.Error(err)
		}
	}

	if _, err := e.EnsureVolume(ctx, engine.VolumeConfig{Name: "rc-data", Labels: map[string]string{engine.LabelManaged: "true"}}); err != nil {
		t.Fatal(err)
	}
	if v, err := e.EnsureVolume(ctx, engine.VolumeConfig{Name: "rc-data"}); err != nil || v.Labels[engine.LabelManaged] != "true" || v.Driver != "local" {
		t.Fatalf("EnsureVolume on existing: %+v %v", v, err)
	}
	bindDir := t.TempDir()
	os.WriteFile(filepath.Join(bindDir, "in.txt"), []byte("bound\n"), 0o644)
	cl := map[string]string{engine.LabelManaged: "true", engine.LabelKind: "Container", engine.LabelName: "web"}
	id, err := e.CreateContainer(ctx, engine.ContainerConfig{
		Name: "rc-web", Image: "bb:1", Cmd: []string{"sh", "-c", "echo $GREETING > /data/out.txt; cat /in/in.txt; sleep 300"},
		Env: []string{"GREETING=hello"}, Labels: cl,
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: "rc-data", Target: "/data"},
			{Type: engine.MountBind, Source: bindDir, Target: "/in", ReadOnly: true},
			{Type: engine.MountTmpfs, Target: "/scratch", Size: 1 << 20},
		},
		Restart:   engine.RestartPolicy{Name: "on-failure", MaxRetries: 2},
		Resources: engine.Resources{MemoryBytes: 64 << 20, PidsLimit: 64},
		StopGrace: time.Second, StopSignal: "SIGINT", Hostname: "rc-web-host", WorkingDir: "/tmp", User: "0:0",
		OpenStdin: true, StdinOnce: true, Tty: true, ConsoleSize: [2]uint{30, 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	list, err := e.Containers(ctx, map[string]string{engine.LabelName: "web"})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Name != "rc-web" || list[0].State != engine.StateRunning || list[0].Image != "bb:1" {
		t.Fatalf("Containers: %+v %v", list, err)
	}
	out, err := d.Docker(ctx, "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NetworkMode}} {{len .Mounts}}", id)
	if err != nil || strings.TrimSpace(out) != "on-failure 2 67108864 64 none 3" {
		t.Errorf("dockerd's view of the container: %q %v", out, err)
	}
	out, err = d.Docker(ctx, "inspect", "-f", "{{.Config.OpenStdin}} {{.Config.StdinOnce}} {{.Config.AttachStdin}} {{.Config.Tty}} {{.HostConfig.ConsoleSize}} "+
		"{{.Config.StopSignal}} {{.Config.StopTimeout}} {{.Config.Hostname}} {{.Config.WorkingDir}} {{.Config.User}} {{.Config.Env}}", id)
	if err != nil || strings.TrimSpace(out) != "true true true true [30 100] SIGINT 1 rc-web-host /tmp 0:0 [GREETING=hello]" {
		t.Errorf("dockerd's view of the container's config: %q %v", out, err)
	}
	waitLogs(t, ctx, d, id, "bound")
	if err := e.RemoveVolume(ctx, "rc-data"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("remove volume in use: %v", err)
	}
	if err := e.RemoveImage(ctx, "bb:1"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("remove image in use: %v", err)
	}
	if err := e.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.Containers(ctx, cl); len(list) != 1 || list[0].State != engine.StateExited {
		t.Errorf("after stop: %+v", list)
	}
	if err := e.RemoveContainer(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.Containers(ctx, cl); len(list) != 0 {
		t.Errorf("after remove: %+v", list)
	}
	if err := e.RemoveVolume(ctx, "rc-data"); err != nil {
		t.Fatal(err)
	}
	if vols, _ := e.Volumes(ctx, map[string]string{engine.LabelManaged: "true"}); len(vols) != 0 {
		t.Errorf("volumes after remove: %+v", vols)
	}
	if err := e.RemoveImage(ctx, "bb:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectImage(ctx, "bb:1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("image after remove: %v", err)
	}

	want := map[string]bool{"container create": false, "container start": false, "container die": false, "container destroy": false, "volume destroy": false}
	deadline := time.After(20 * time.Second)
	for missing(want) {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event stream ended: %v", <-evErrs)
			}
			key := ev.Type + " " + ev.Action
			if _, ok := want[key]; ok && (ev.Type != engine.EventContainer || ev.Labels[engine.LabelName] == "web") {
				want[key] = true
			}
		case <-deadline:
			t.Fatalf("events not seen: %v", want)
		}
	}
}

func missing(m map[string]bool) bool {
	for _, seen := range m {
		if !seen {
			return true
		}
	}
	return false
}

func waitLogs(t *testing.T, ctx context.Context, d *testpeer.Dockerd, id, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := d.Docker(ctx, "logs", id)
		if strings.Contains(out, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container log lacks %q: %q", want, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
