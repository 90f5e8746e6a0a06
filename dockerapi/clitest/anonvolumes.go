package clitest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// AnonymousVolumes covers anonymous volumes: an image's VOLUME gets one,
// filled from the image; docker rm keeps it, rm -v and run --rm remove
// it, but neither a named volume nor one another container uses; run -v
// /PATH makes one too. The engine must build with the classic builder.
func AnonymousVolumes(t *testing.T, o Options) {
	c := newCLI(t, o)
	suite := unique("anon")
	img := suite + ":1"
	a, b, d, e, f, g := suite+"-a", suite+"-b", suite+"-d", suite+"-e", suite+"-f", suite+"-g"
	named := suite + "-named"
	c.cleanup("rmi", "-f", img)
	c.cleanup("rm", "-f", "-v", a, b, d, e, f, g)
	c.cleanup("volume", "rm", "-f", named)

	ctx := t.TempDir()
	df := "FROM " + o.Image + "\nRUN mkdir /data && echo seeded > /data/seed\nVOLUME /data\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	c.o.Env = append(c.o.Env, "DOCKER_BUILDKIT=0")
	c.must("build", "-q", "-t", img, ctx)

	// volumeAt is the name of the volume the container has at target.
	volumeAt := func(ctr, target string) string {
		t.Helper()
		out := c.must("inspect", "-f", `{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{"\n"}}{{end}}`, ctr)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if typ, rest, _ := strings.Cut(l, " "); typ == "volume" && strings.HasSuffix(rest, " "+target) {
				return strings.TrimSuffix(rest, " "+target)
			}
		}
		t.Fatalf("%s: no volume at %s in inspect's Mounts:\n%s", ctr, target, out)
		return ""
	}
	exists := func(vol string) bool {
		t.Helper()
		_, _, code := c.run("", "volume", "inspect", vol)
		return code == 0
	}
	anonymous := func() []string {
		t.Helper()
		return strings.Fields(c.must("volume", "ls", "-q", "--filter", "label=com.docker.volume.anonymous"))
	}

	// The image's VOLUME: a fresh anonymous volume with the image's content.
	if got := c.must("run", "--name", a, img, "sh", "-c", "cat /data/seed; echo kept > /data/x"); got != "seeded\n" {
		t.Errorf("run on a VOLUME image: %q, want the image's /data/seed", got)
	}
	va := volumeAt(a, "/data")
	if !fullID.MatchString(va) {
		t.Errorf("anonymous volume name %q: want 64 hex digits", va)
	}
	if !slices.Contains(anonymous(), va) {
		t.Errorf("volume ls --filter label=com.docker.volume.anonymous does not list %s", va)
	}
	if got := c.must("inspect", "-f", "{{json .Config.Volumes}}", a); got != `{"/data":{}}`+"\n" {
		t.Errorf("Config.Volumes: %q", got)
	}

	// docker rm keeps it, data and all.
	c.must("rm", a)
	if !exists(va) {
		t.Fatalf("docker rm removed the anonymous volume %s", va)
	}
	if got := c.must("run", "--rm", "-v", va+":/old", o.Image, "cat", "/old/x"); got != "kept\n" {
		t.Errorf("the kept volume's data: %q", got)
	}
	c.must("volume", "rm", va)

	// run --rm removes its own.
	before := anonymous()
	if got := c.must("run", "--rm", "--name", b, img, "cat", "/data/seed"); got != "seeded\n" {
		t.Errorf("run --rm: %q", got)
	}
	if after := anonymous(); !slices.Equal(after, before) {
		t.Errorf("run --rm left anonymous volumes: before %v, after %v", before, after)
	}

	// rm -v removes it, unless another container uses it.
	c.must("create", "--name", e, img)
	ve := volumeAt(e, "/data")
	c.must("create", "--name", f, "-v", ve+":/shared", o.Image)
	c.must("rm", "-v", e)
	if !exists(ve) {
		t.Fatalf("rm -v removed %s, which %s still uses", ve, f)
	}
	if got := c.must("start", "-a", f); got != "" {
		t.Errorf("start %s: %q", f, got)
	}
	c.must("create", "--name", g, img)
	vg := volumeAt(g, "/data")
	c.must("rm", "-v", g)
	if exists(vg) {
		t.Errorf("rm -v kept the anonymous volume %s", vg)
	}
	// A volume mounted by name never goes with rm -v, even an anonymous one.
	c.must("rm", "-v", f)
	if !exists(ve) {
		t.Errorf("rm -v removed %s, which %s mounted by name", ve, f)
	}
	c.must("volume", "rm", ve)

	// A named volume at the VOLUME path replaces the anonymous one and
	// stays after rm -v.
	c.must("create", "--name", d, "-v", named+":/data", img)
	if got := c.must("inspect", "-f", `{{len .Mounts}} {{range .Mounts}}{{.Name}}{{end}}`, d); got != "1 "+named+"\n" {
		t.Errorf("mounts with a named volume at /data: %q", got)
	}
	c.must("rm", "-v", d)
	if !exists(named) {
		t.Errorf("rm -v removed the named volume %s", named)
	}

	// docker run -v /PATH: an anonymous volume on any image.
	if got := c.must("run", "--name", g, "-v", "/cache", o.Image, "sh", "-c", "echo hi > /cache/f; cat /cache/f"); got != "hi\n" {
		t.Errorf("run -v /cache: %q", got)
	}
	vc := volumeAt(g, "/cache")
	if !fullID.MatchString(vc) {
		t.Errorf("-v /cache volume name %q", vc)
	}
	c.must("rm", "-v", g)
	if exists(vc) {
		t.Errorf("rm -v kept the -v /cache volume %s", vc)
	}
}
