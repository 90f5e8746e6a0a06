package server

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDockerCLIImages(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	host := "unix://" + ts.sock

	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM busybox:local\nENV A=1\nCMD [\"echo\",\"built\"]\n"), 0o644)
	out, errOut, code := docker(t, host, []string{"DOCKER_BUILDKIT=0"}, "", "build", "-t", "mini:1", ctx)
	if code != 0 || !strings.Contains(out, "Step 1/3 : FROM busybox:local") || !strings.Contains(out, "Successfully built ") || !strings.Contains(out, "Successfully tagged mini:1") {
		t.Fatalf("build: code %d\n%s\n%s", code, out, errOut)
	}
	if got := mustDocker(t, host, "run", "--rm", "mini:1"); got != "built\n" {
		t.Errorf("run built image: %q", got)
	}
	if got, _, _ := docker(t, host, []string{"DOCKER_BUILDKIT=0"}, "", "build", "-q", ctx); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("build -q: %q", got)
	}

	mustDocker(t, host, "tag", "mini:1", "mini:2")
	mustDocker(t, host, "tag", "mini:1", "localhost:5000/foo/mini:3")
	images := mustDocker(t, host, "images", "--format", "{{.Repository}}:{{.Tag}}")
	for _, want := range []string{"mini:1", "mini:2", "localhost:5000/foo/mini:3", "busybox:local"} {
		if !strings.Contains(images, want+"\n") {
			t.Errorf("images: missing %s in\n%s", want, images)
		}
	}
	if got := mustDocker(t, host, "images", "--filter", "reference=mini", "--format", "{{.Tag}}"); got != "1\n2\n" && got != "2\n1\n" {
		t.Errorf("images --filter reference=mini: %q", got)
	}
	if got := mustDocker(t, host, "image", "inspect", "-f", "{{.Os}} {{.Config.Cmd}}", "localhost:5000/foo/mini:3"); got != "linux [echo built]\n" {
		t.Errorf("image inspect by name with / and :: %q", got)
	}
	if got := mustDocker(t, host, "history", "mini:1"); !strings.Contains(got, "CMD [\"echo\",\"built\"]") {
		t.Errorf("history:\n%s", got)
	}
	_, errOut, code = docker(t, host, nil, "", "image", "inspect", "nosuch:img")
	if code != 1 || !strings.Contains(errOut, "No such image") {
		t.Errorf("inspect missing image: %d %q", code, errOut)
	}

	// save and load round trip.
	archive := filepath.Join(t.TempDir(), "mini.tar")
	mustDocker(t, host, "save", "-o", archive, "mini:1")
	if got := mustDocker(t, host, "rmi", "mini:1", "mini:2", "localhost:5000/foo/mini:3"); !strings.Contains(got, "Untagged: mini:1") || !strings.Contains(got, "Deleted: sha256:") {
		t.Errorf("rmi: %q", got)
	}
	if got := mustDocker(t, host, "load", "-i", archive); got != "Loaded image: mini:1\n" {
		t.Errorf("load: %q", got)
	}
	_, errOut, code = docker(t, host, nil, "", "save", "-o", archive, "nosuch:1")
	if code != 1 || !strings.Contains(errOut, "No such image") {
		t.Errorf("save missing: %d %q", code, errOut)
	}

	// import from stdin, push to and pull from the fake's registry.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 2, ModTime: time.Now()})
	tw.Write([]byte("hi"))
	tw.Close()
	out, errOut, code = docker(t, host, nil, buf.String(), "import", "-", "imported:1")
	if code != 0 || !strings.HasPrefix(out, "sha256:") {
		t.Errorf("import: %d %q %q", code, out, errOut)
	}
	out, errOut, code = docker(t, host, nil, "", "push", "imported:1")
	if code != 0 || !strings.Contains(out, "digest: sha256:") {
		t.Errorf("push: %d %q %q", code, out, errOut)
	}
	mustDocker(t, host, "rmi", "imported:1")
	if out := mustDocker(t, host, "pull", "imported:1"); !strings.Contains(out, "docker.io/library/imported:1") {
		t.Errorf("pull: %q", out)
	}
	_, errOut, code = docker(t, host, nil, "", "pull", "nosuch:1")
	if code != 1 || !strings.Contains(errOut, "pull access denied") {
		t.Errorf("pull missing: %d %q", code, errOut)
	}

	// rmi of an image in use is a 409; prune removes dangling images.
	mustDocker(t, host, "create", "--name", "user", "mini:1")
	_, errOut, code = docker(t, host, nil, "", "rmi", "mini:1")
	if code != 1 || !strings.Contains(errOut, "must force") {
		t.Errorf("rmi in use: %d %q", code, errOut)
	}
	mustDocker(t, host, "rm", "user")
	if out := mustDocker(t, host, "image", "prune", "-f"); !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("image prune: %q", out)
	}
}

func TestDockerCLIVolumesEventsDF(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	host := "unix://" + ts.sock

	// events: a stream started before the changes sees them live.
	ev := exec.Command(dockerCLI, "-H", host, "events", "--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}")
	ev.Env = []string{"HOME=" + t.TempDir()}
	var evOut syncBuffer
	ev.Stdout = &evOut
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ev.Process.Kill(); ev.Wait() }()
	waitFor(t, func() bool { return ts.fake.Subscribers() > 0 })

	if got := mustDocker(t, host, "volume", "create", "v2", "--label", "a=b"); got != "v2\n" {
		t.Errorf("volume create: %q", got)
	}
	mustDocker(t, host, "volume", "create", "v3")
	if got := mustDocker(t, host, "volume", "ls", "-q", "--filter", "label=a=b"); got != "v2\n" {
		t.Errorf("volume ls --filter: %q", got)
	}
	if got := mustDocker(t, host, "volume", "ls"); !strings.Contains(got, "local     v2") {
		t.Errorf("volume ls:\n%s", got)
	}
	if got := mustDocker(t, host, "volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}}", "v2"); got != "v2 local map[a:b]\n" {
		t.Errorf("volume inspect: %q", got)
	}
	if got := mustDocker(t, host, "volume", "rm", "v2"); got != "v2\n" {
		t.Errorf("volume rm: %q", got)
	}
	_, errOut, code := docker(t, host, nil, "", "volume", "inspect", "v2")
	if code != 1 || !strings.Contains(strings.ToLower(errOut), "no such volume") {
		t.Errorf("inspect removed volume: %d %q", code, errOut)
	}
	if got := mustDocker(t, host, "volume", "prune", "-f"); !strings.Contains(got, "v3") {
		t.Errorf("volume prune: %q", got)
	}
	waitFor(t, func() bool { return strings.Count(evOut.String(), "\n") >= 4 })
	want := "volume create v2\nvolume create v3\nvolume destroy v2\nvolume destroy v3\n"
	if evOut.String() != want {
		t.Errorf("events:\n%s\nwant:\n%s", evOut.String(), want)
	}

	// events --since/--until replays retained events and ends. until is
	// whole seconds, so (as with dockerd) it covers the events only once
	// their second has passed.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	out := mustDocker(t, host, "events", "--since", "1m", "--until", "0s", "--filter", "event=create", "--format", "{{.Action}} {{.Actor.ID}}")
	if !strings.Contains(out, "create v2\n") || strings.Contains(out, "destroy") {
		t.Errorf("events --since --until: %q", out)
	}

	mustDocker(t, host, "run", "-d", "--name", "df", "busybox:local", "sleep", "10")
	df := mustDocker(t, host, "system", "df")
	for _, want := range []string{"Images          1         1", "Containers      1         1", "Local Volumes   0         0"} {
		if !strings.Contains(df, want) {
			t.Errorf("system df: missing %q in\n%s", want, df)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
