package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

func TestDockerignoreAndGlobs(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		".dockerignore":      "# comment\n*.log\nsecret/\n!secret/public.txt\nnode_modules\n/Dockerfile\n",
		"a.txt":              "a",
		"b.txt":              "b",
		"debug.log":          "log",
		"secret/key.pem":     "KEY",
		"secret/public.txt":  "pub",
		"node_modules/x/y":   "dep",
		"src/one.go":         "1",
		"src/two.go":         "2",
		"src/three.c":        "3",
		"src/deep/four.go":   "4",
		"src/deep/debug.log": "nested logs are not matched by *.log",
	})
	df := "FROM scratch\nCOPY . /ctx/\nCOPY *.txt /txt/\nCOPY src/*.go /go/\nCOPY src/*/*.go /go-deep/\n"
	r := mustBuild(t, s, dir, df, Options{})
	for p, want := range map[string]bool{
		"/ctx/a.txt": true, "/ctx/debug.log": false, "/ctx/secret/key.pem": false, "/ctx/secret/public.txt": true,
		"/ctx/node_modules": false, "/ctx/Dockerfile": false, "/ctx/.dockerignore": true,
		"/ctx/src/deep/debug.log": true,
		"/txt/a.txt":              true, "/txt/b.txt": true, "/txt/debug.log": false,
		"/go/one.go": true, "/go/two.go": true, "/go/three.c": false, "/go/four.go": false,
		"/go-deep/four.go": true,
	} {
		if _, ok := statImage(t, s, r.img, p); ok != want {
			t.Errorf("%s present = %v, want %v", p, ok, want)
		}
	}
	// An ignored file named explicitly is "not found", as in docker.
	if r := build(t, s, dir, "FROM scratch\nCOPY debug.log /\n", Options{}); r.err == nil || !strings.Contains(r.err.Error(), "excluded by .dockerignore") {
		t.Errorf("COPY of an ignored file: %v", r.err)
	}
	// Changing an ignored file does not invalidate the cache.
	writeFiles(t, dir, map[string]string{"Dockerfile": df, "debug.log": "other"})
	if r2 := mustBuild(t, s, dir, "", Options{}); r2.img.ID != r.img.ID {
		t.Error("a change to an ignored file invalidated the cache")
	}
}

func TestCopyDestinationRules(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"dir/x":       "x",
		"dir/sub/y":   "y",
		"file":        "f",
		"link-to-dir": "->dir",
	})
	if err := os.Chmod(filepath.Join(dir, "dir"), 0o750); err != nil {
		t.Fatal(err)
	}
	df := `FROM scratch
COPY dir /a
COPY dir/ /b/
COPY file /c
COPY file /d/
COPY file /a
WORKDIR /w
COPY file rel
COPY file .
COPY dir sub/
COPY link-to-dir /e
`
	r := mustBuild(t, s, dir, df, Options{})
	for p, want := range map[string]string{
		"/a/x": "x", "/a/sub/y": "y", // a directory's contents, not the directory
		"/b/x":    "x",
		"/c":      "f", // a file to a new name
		"/d/file": "f",
		"/a/file": "f", // an existing directory receives the file
		"/w/rel":  "f", "/w/file": "f", "/w/sub/x": "x",
		"/e/x": "x", // a symlinked source is followed
	} {
		if got, _ := readImageFile(t, s, r.img, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if n, _ := statImage(t, s, r.img, "/a"); n.fi == nil || n.fi.Mode().Perm() != 0o750 {
		t.Errorf("/a mode: created from a source directory it takes its mode")
	}
	if n, _ := statImage(t, s, r.img, "/d"); n.fi == nil || !n.fi.IsDir() || n.fi.Mode().Perm() != 0o755 {
		t.Errorf("/d must be a new 0755 directory")
	}
}

func TestCopyKeepsExistingParentMetadata(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n", "etc/group": "root:x:0:\nstaff:x:50:\n", "f": "f"})
	df := `FROM scratch
COPY --chown=7:7 --chmod=0700 f /private/f
COPY etc/ /etc/
COPY --chown=app f /private/g
COPY --chown=app:staff f /h
COPY --chown=1001 f /i
`
	r := mustBuild(t, s, dir, df, Options{})
	n, _ := statImage(t, s, r.img, "/private")
	if uid, gid := n.owner(); uid != 7 || gid != 7 || n.fi.Mode().Perm() != 0o755 {
		t.Errorf("/private: %d:%d %v; a later COPY must keep the directory's owner and mode", uid, gid, n.fi.Mode())
	}
	if n, _ := statImage(t, s, r.img, "/private/f"); n.fi.Mode().Perm() != 0o700 {
		t.Errorf("--chmod: %v", n.fi.Mode())
	}
	for p, want := range map[string][2]int{"/private/g": {1001, 1002}, "/h": {1001, 50}, "/i": {1001, 1001}} {
		n, _ := statImage(t, s, r.img, p)
		if uid, gid := n.owner(); uid != want[0] || gid != want[1] {
			t.Errorf("%s owner %d:%d, want %v", p, uid, gid, want)
		}
	}
}

func TestWorkdirLayer(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f": "f"})
	r := mustBuild(t, s, dir, "FROM scratch\nWORKDIR /srv/app\nWORKDIR sub\nCOPY f /x/\nWORKDIR /x\n", Options{})
	if r.img.Config.Config.WorkingDir != "/x" {
		t.Errorf("WorkingDir = %q", r.img.Config.Config.WorkingDir)
	}
	if n, ok := statImage(t, s, r.img, "/srv/app/sub"); !ok || !n.fi.IsDir() {
		t.Error("WORKDIR must create its directory")
	}
	// Two new directories: a layer each; an existing one: none.
	if len(r.img.Layers) != 3 {
		t.Errorf("layers = %d, want 3 (WORKDIR, WORKDIR, COPY; the last WORKDIR exists)", len(r.img.Layers))
	}
}

func tarball(t *testing.T, gz bool, entries map[string]string) []byte {
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := tar.NewWriter(w)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(entries[n])), Typeflag: tar.TypeReg, Uid: 33, Gid: 33}
		if strings.HasSuffix(n, "/") {
			hdr = &tar.Header{Name: n, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(entries[n]))
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func TestAddExtractsLocalArchives(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"plain.txt": "just a file"})
	os.WriteFile(filepath.Join(dir, "rootfs.tar.gz"), tarball(t, true, map[string]string{"./etc/": "", "./etc/os-release": "ID=test"}), 0o644)
	os.WriteFile(filepath.Join(dir, "data.tar"), tarball(t, false, map[string]string{"data/a": "A"}), 0o644)
	os.WriteFile(filepath.Join(dir, "evil.tar"), tarball(t, false, map[string]string{"../../escape": "x"}), 0o644)
	df := "FROM scratch\nADD rootfs.tar.gz /\nADD data.tar /opt\nADD plain.txt /p.txt\nCOPY data.tar /copied/\n"
	r := mustBuild(t, s, dir, df, Options{})
	for p, want := range map[string]string{"/etc/os-release": "ID=test", "/opt/data/a": "A", "/p.txt": "just a file"} {
		if got, _ := readImageFile(t, s, r.img, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if n, _ := statImage(t, s, r.img, "/opt/data/a"); func() bool { u, _ := n.owner(); return u != 33 }() {
		t.Error("archive owners must be kept")
	}
	if _, ok := statImage(t, s, r.img, "/copied/data.tar"); !ok {
		t.Error("COPY must not extract archives")
	}
	if r := build(t, s, dir, "FROM scratch\nADD evil.tar /x/\n", Options{}); r.err == nil || !strings.Contains(r.err.Error(), "outside the destination") {
		t.Errorf("archive escaping its destination: %v", r.err)
	}
}

func TestLayerTreeOverlaySemantics(t *testing.T) {
	testutil.NeedRoot(t, "whiteouts are character devices")
	base, mid, top := t.TempDir(), t.TempDir(), t.TempDir()
	writeFiles(t, base, map[string]string{"keep": "base", "gone": "base", "dir/a": "a", "opq/old": "old", "bin/sh": "sh", "link": "->dir"})
	writeFiles(t, mid, map[string]string{"keep": "mid", "opq/new": "new", "dir/b": "b"})
	if err := unix.Setxattr(filepath.Join(mid, "opq"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(top, "gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(top, "dir"), 0o755)
	if err := unix.Mknod(filepath.Join(top, "dir", "a"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	lt := newLayerTree([]string{base, mid, top})
	if n, err := lt.lookup("keep"); err != nil || n.host != filepath.Join(mid, "keep") {
		t.Errorf("keep: %v %v", n.host, err)
	}
	for _, p := range []string{"gone", "dir/a", "opq/old", "nothing", "keep/below"} {
		if _, err := lt.lookup(p); err == nil {
			t.Errorf("%s must be hidden", p)
		}
	}
	for p, want := range map[string][]string{"": {"bin", "dir", "keep", "link", "opq"}, "dir": {"b"}, "opq": {"new"}} {
		got, err := lt.list(p)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("list %q = %v %v, want %v", p, got, err, want)
		}
	}
	if r, n, err := resolve(lt, "/link/b", true); err != nil || r != "dir/b" || n.host != filepath.Join(mid, "dir", "b") {
		t.Errorf("resolve through symlink: %q %v", r, err)
	}
}

func TestResolveStaysInsideTree(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"etc/passwd": "p", "abs": "->/etc", "up": "->../../../etc", "loop": "->loop"})
	dt, _ := newDirTree(root, nil)
	for _, p := range []string{"abs/passwd", "up/passwd"} {
		if r, n, err := resolve(dt, p, true); err != nil || r != "etc/passwd" || n.host != filepath.Join(root, "etc/passwd") {
			t.Errorf("%s -> %q %v", p, r, err)
		}
	}
	if _, _, err := resolve(dt, "loop", true); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("loop: %v", err)
	}
	if r, _, err := resolve(dt, "abs/new/file", true); err == nil || r != "etc/new/file" {
		t.Errorf("missing path resolves to %q (%v), want etc/new/file", r, err)
	}
}

func TestContextSymlinksStayInContext(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"abs-etc": "->/etc", "up": "->../../..", "etc/app.conf": "mine"})
	df := "FROM scratch\nCOPY abs-etc /a/\nCOPY up/etc/app.conf /b\nCOPY abs-etc/* /c/\n"
	r := mustBuild(t, s, dir, df, Options{})
	names, err := imageTree(t, s, r.img).list("a")
	if err != nil || !slices.Equal(names, []string{"app.conf"}) {
		t.Errorf("/a = %v (%v): an absolute symlink must point into the context, not the host's /etc", names, err)
	}
	if got, _ := readImageFile(t, s, r.img, "/b"); got != "mine" {
		t.Errorf("/b = %q", got)
	}
	if names, _ := imageTree(t, s, r.img).list("c"); !slices.Equal(names, []string{"app.conf"}) {
		t.Errorf("glob through a symlink: /c = %v", names)
	}
	if r := build(t, s, dir, "FROM scratch\nCOPY abs-etc/passwd /p\n", Options{}); r.err == nil {
		t.Error("the host's /etc/passwd was reachable through a context symlink")
	}
}
