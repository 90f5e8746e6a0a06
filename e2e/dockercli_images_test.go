package e2e

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// cliImages covers tag, images, save, rmi, load, commit (and running the committed
// image).
func cliImages(t *testing.T, d *daemon) {
	c := d.cli(t)
	if got := c.ok("tag", "bb:e2e", "mini:1"); got != "" {
		t.Errorf("docker tag printed %q", got)
	}
	imgs := c.ok("images")
	bbID := imageID(t, imgs, "bb", "e2e")
	if miniID := imageID(t, imgs, "mini", "1"); miniID != bbID {
		t.Errorf("docker images: mini:1 has ID %s, bb:e2e %s; a tag must name the same image", miniID, bbID)
	}
	tarPath := filepath.Join(t.TempDir(), "mini.tar")
	c.ok("save", "-o", tarPath, "mini:1")
	wantTarEntries(t, tarPath, "manifest.json", "repositories")
	for _, l := range rows(imgs) {
		if strings.Contains(l, "years ago") || strings.Contains(l, " 0B") {
			t.Errorf("docker images row with an unset creation time or size: %q", l)
		}
	}
	rmi := c.ok("rmi", "mini:1")
	wantContains(t, "docker rmi mini:1", rmi, "Untagged: mini:1")
	if strings.Contains(rmi, "Deleted:") {
		t.Errorf("docker rmi mini:1 deleted an image still tagged bb:e2e:\n%s", rmi)
	}
	if imgs := c.ok("images"); strings.Contains(imgs, "mini") {
		t.Errorf("docker images after rmi still lists mini:\n%s", imgs)
	}
	load := c.ok("load", "-i", tarPath)
	wantContains(t, "docker load", load, "Loaded image: mini:1")
	if id := imageID(t, c.ok("images"), "mini", "1"); id != bbID {
		t.Errorf("loaded mini:1 has ID %s, saved %s", id, bbID)
	}

	c.ok("run", "-d", "--name", "tocommit", "bb:e2e", "sh", "-c", "echo changed > /marker; exec sleep 1000")
	if !testutil.WaitFor(10*time.Second, func() bool { return c.try("exec", "tocommit", "cat", "/marker").Out == "changed\n" }) {
		t.Fatalf("container tocommit did not write /marker: %s", c.try("exec", "tocommit", "cat", "/marker"))
	}
	cid := strings.TrimSpace(c.ok("commit", "tocommit", "snap:1"))
	if !strings.HasPrefix(cid, "sha256:") {
		t.Errorf("docker commit printed %q, want sha256:<id>", cid)
	}
	if got := c.ok("run", "--rm", "snap:1", "cat", "/marker"); got != "changed\n" {
		t.Errorf("docker run --rm snap:1 cat /marker = %q, want %q", got, "changed\n")
	}
	if r := c.try("run", "--rm", "bb:e2e", "cat", "/marker"); r.Code == 0 {
		t.Errorf("the base image bb:e2e has /marker after commit (the container layer leaked into it): %s", r)
	}
	c.ok("rm", "-f", "tocommit")
	wantContains(t, "docker rmi snap:1", c.ok("rmi", "snap:1"), "Untagged: snap:1", "Deleted: sha256:")
	if imgs := c.ok("images"); strings.Contains(imgs, "snap") {
		t.Errorf("docker images after rmi still lists snap:\n%s", imgs)
	}
}

// cliBuildCache covers a RUN step, its cache on the second build, and CMD from the
// build.
func cliBuildCache(t *testing.T, d *daemon) {
	c := d.cli(t)
	df := "FROM bb:e2e\nRUN echo built-by-run > /built\nCMD [\"cat\", \"/built\"]\n"
	first := buildFrom(t, c, "app:1", df)
	wantContains(t, "docker build", first, "Step 1/3 : FROM bb:e2e", "Step 2/3 : RUN echo built-by-run > /built", "Successfully tagged app:1")
	second := buildFrom(t, c, "app:1", df)
	wantContains(t, "docker build again", second, "Using cache")
	idRe := regexp.MustCompile(`Successfully built ([0-9a-f]{12})`)
	m1, m2 := idRe.FindStringSubmatch(first), idRe.FindStringSubmatch(second)
	if m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Errorf("the same Dockerfile built twice gave different images:\n%s\n%s", first, second)
	}
	if got := c.ok("run", "--rm", "app:1"); got != "built-by-run\n" {
		t.Errorf("docker run --rm app:1 (CMD from the build) = %q", got)
	}
	c.ok("rmi", "app:1")
}

// wantTarEntries checks that a docker-archive tar holds the named entries.
func wantTarEntries(t *testing.T, path string, names ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("docker save wrote a broken tar %s: %v", path, err)
		}
		seen[h.Name] = true
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("docker save: the archive lacks %s (has %v)", n, seen)
		}
	}
}

// imageID is the IMAGE ID column of the `docker images` row repo:tag.
func imageID(t *testing.T, images, repo, tag string) string {
	t.Helper()
	for _, l := range lines(images) {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == repo && f[1] == tag {
			return f[2]
		}
	}
	t.Fatalf("docker images: no row %s:%s:\n%s", repo, tag, images)
	return ""
}
