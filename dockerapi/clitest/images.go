package clitest

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Images covers build (classic builder), build -q, tag, images (with a
// reference filter), image inspect of names holding "/" and ":", history,
// save and load, import from stdin, push and pull (with PushPull), rmi
// (409 while in use) and image prune.
func Images(t *testing.T, o Options) {
	c := newCLI(t, o)
	repo := unique("mini")
	remote := "localhost:5000/clitest/" + repo + ":3"
	imported := unique("imported") + ":1"
	user := unique("img-user")
	c.cleanup("rm", "-f", user)
	c.cleanup("rmi", "-f", repo+":1", repo+":2", remote, imported)

	ctx := t.TempDir()
	df := "FROM " + o.Image + "\nENV A=1\nCMD [\"echo\",\"built\"]\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"DOCKER_BUILDKIT=0"}
	c.o.Env = append(c.o.Env, env...)
	out, errOut, code := c.run("", "build", "-t", repo+":1", ctx)
	if code != 0 || !strings.Contains(out, "Step 1/3 : FROM "+o.Image) || !strings.Contains(out, "Successfully built ") || !strings.Contains(out, "Successfully tagged "+repo+":1") {
		t.Fatalf("build: code %d\n%s\n%s", code, out, errOut)
	}
	if got := c.must("run", "--rm", repo+":1"); got != "built\n" {
		t.Errorf("run the built image: %q", got)
	}
	if got, errOut, _ := c.run("", "build", "-q", ctx); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("build -q: %q %q", got, errOut)
	}

	c.must("tag", repo+":1", repo+":2")
	c.must("tag", repo+":1", remote)
	images := c.must("images", "--format", "{{.Repository}}:{{.Tag}}")
	for _, want := range []string{repo + ":1", repo + ":2", remote} {
		if !strings.Contains(images, want+"\n") {
			t.Errorf("images: missing %s in\n%s", want, images)
		}
	}
	if got := c.must("images", "--filter", "reference="+repo, "--format", "{{.Tag}}"); got != "1\n2\n" && got != "2\n1\n" {
		t.Errorf("images --filter reference=%s: %q", repo, got)
	}
	if got := c.must("image", "inspect", "-f", "{{.Os}} {{.Config.Cmd}}", remote); got != "linux [echo built]\n" {
		t.Errorf("image inspect %s: %q", remote, got)
	}
	if got := c.must("history", repo+":1"); !strings.Contains(got, "CMD") {
		t.Errorf("history:\n%s", got)
	}
	if _, errOut, code := c.run("", "image", "inspect", repo+":nosuch"); code != 1 || !strings.Contains(strings.ToLower(errOut), "no such image") {
		t.Errorf("inspect a missing image: %d %q", code, errOut)
	}

	// save and load round trip.
	archive := filepath.Join(t.TempDir(), "mini.tar")
	c.must("save", "-o", archive, repo+":1")
	if got := c.must("rmi", repo+":1", repo+":2", remote); !strings.Contains(got, "Untagged: "+repo+":1") || !strings.Contains(got, "Deleted: sha256:") {
		t.Errorf("rmi: %q", got)
	}
	if got := c.must("load", "-i", archive); got != "Loaded image: "+repo+":1\n" {
		t.Errorf("load: %q", got)
	}
	if _, errOut, code := c.run("", "save", "-o", archive, repo+":nosuch"); code != 1 || !strings.Contains(strings.ToLower(errOut), "no such image") {
		t.Errorf("save a missing image: %d %q", code, errOut)
	}

	// import a root filesystem from stdin.
	out, errOut, code = c.run(string(tarOf("hello.txt", "hi")), "import", "-", imported)
	if code != 0 || !strings.HasPrefix(out, "sha256:") {
		t.Errorf("import: %d %q %q", code, out, errOut)
	}
	if o.PushPull {
		if out, errOut, code := c.run("", "push", imported); code != 0 || !strings.Contains(out, "digest: sha256:") {
			t.Errorf("push: %d %q %q", code, out, errOut)
		}
		c.must("rmi", imported)
		if out := c.must("pull", imported); !strings.Contains(out, imported) {
			t.Errorf("pull: %q", out)
		}
	}

	// rmi of an image in use is refused; prune removes dangling images.
	c.must("create", "--name", user, repo+":1")
	if _, errOut, code := c.run("", "rmi", repo+":1"); code != 1 || !(strings.Contains(errOut, "must force") || strings.Contains(errOut, "in use")) {
		t.Errorf("rmi of an image in use: %d %q", code, errOut)
	}
	c.must("rm", user)
	if out := c.must("image", "prune", "-f"); !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("image prune: %q", out)
	}
}

func tarOf(name, content string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()})
	tw.Write([]byte(content))
	tw.Close()
	return b.Bytes()
}
