package build

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

const appDockerfile = `ARG BASE=scratch
FROM ${BASE}
ARG VERSION=1.0
ENV APP_VERSION=$VERSION PATH=/app/bin:/usr/bin
WORKDIR /app
COPY --chown=1000:1000 bin/ ./bin/
COPY conf.txt /etc/app/
LABEL org.example.version=${APP_VERSION} maintainer="me"
EXPOSE 8080 9000-9001/udp
USER 1000
VOLUME /data
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bin/server"]
CMD serve --port 8080
`

func appContext(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"bin/server":  "#!binary",
		"bin/helper":  "helper",
		"bin/link":    "->server",
		"conf.txt":    "key=value",
		"unused.txt":  "not copied",
		"sub/empty/":  "",
		"Dockerfile2": "",
	})
	return dir
}

func TestBuildConfigAndFiles(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	r := mustBuild(t, s, dir, appDockerfile, Options{Tags: []string{"app"}, BuildArgs: map[string]string{"VERSION": "2.5"}})
	img := r.img
	if !slices.Contains(img.RepoTags, "app:latest") {
		t.Errorf("tags = %v, want app:latest", img.RepoTags)
	}
	c := img.Config.Config
	want := map[string]any{
		"Env":          []string{"PATH=/app/bin:/usr/bin", "APP_VERSION=2.5"},
		"WorkingDir":   "/app",
		"User":         "1000",
		"Entrypoint":   []string{"/app/bin/server"},
		"Cmd":          []string{"/bin/sh", "-c", "serve --port 8080"},
		"Labels":       map[string]string{"org.example.version": "2.5", "maintainer": "me"},
		"ExposedPorts": map[string]struct{}{"8080/tcp": {}, "9000/udp": {}, "9001/udp": {}},
		"Volumes":      map[string]struct{}{"/data": {}},
		"StopSignal":   "SIGTERM",
	}
	got := map[string]any{
		"Env": c.Env, "WorkingDir": c.WorkingDir, "User": c.User, "Entrypoint": c.Entrypoint, "Cmd": c.Cmd,
		"Labels": c.Labels, "ExposedPorts": c.ExposedPorts, "Volumes": c.Volumes, "StopSignal": c.StopSignal,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	// WORKDIR and the two COPYs made layers; the rest only configs.
	if len(img.Layers) != 3 || len(img.Config.RootFS.DiffIDs) != 3 {
		t.Fatalf("layers = %d, diff IDs = %d, want 3", len(img.Layers), len(img.Config.RootFS.DiffIDs))
	}
	if n := len(img.Config.History); n != 12 {
		t.Errorf("history has %d entries, want 12 (one per step after FROM)", n)
	}
	if img.Parent == "" {
		t.Error("final image has no parent: steps must chain intermediate images")
	}
	if got, _ := readImageFile(t, s, img, "/app/bin/server"); got != "#!binary" {
		t.Errorf("/app/bin/server = %q", got)
	}
	if got, _ := readImageFile(t, s, img, "/etc/app/conf.txt"); got != "key=value" {
		t.Errorf("/etc/app/conf.txt = %q", got)
	}
	n, ok := statImage(t, s, img, "/app/bin/helper")
	if uid, gid := n.owner(); !ok || uid != 1000 || gid != 1000 {
		t.Errorf("--chown: /app/bin/helper owner = %d:%d", uid, gid)
	}
	if n, ok := statImage(t, s, img, "/app/bin/link"); !ok || n.fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink inside a copied directory must stay a symlink")
	} else if target, _ := os.Readlink(n.host); target != "server" {
		t.Errorf("symlink target = %q", target)
	}
	n, _ = statImage(t, s, img, "/etc/app/conf.txt")
	if uid, _ := n.owner(); uid != 0 || n.fi.Mode().Perm() != 0o644 {
		t.Errorf("conf.txt owner %d mode %v, want root 0644", uid, n.fi.Mode())
	}
	if _, ok := statImage(t, s, img, "/app/unused.txt"); ok {
		t.Error("a file that was not COPYed is in the image")
	}

	steps := regexp.MustCompile(`(?m)^Step (\d+)/13 : `).FindAllStringSubmatch(r.out, -1)
	if len(steps) != 13 {
		t.Errorf("want 13 'Step N/13' lines, got %d:\n%s", len(steps), r.out)
	}
	for _, wantLine := range []string{"Step 5/13 : COPY --chown=1000:1000 bin/ ./bin/\n", "Successfully built " + shortID(img.ID) + "\n", "Successfully tagged app:latest\n"} {
		if !strings.Contains(r.out, wantLine) {
			t.Errorf("output lacks %q:\n%s", wantLine, r.out)
		}
	}
}

func TestUnchangedRebuildCreatesNothing(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	first := mustBuild(t, s, dir, appDockerfile, Options{Tags: []string{"app:1"}})
	before := snapshot(t, s.Root())
	second := mustBuild(t, s, dir, "", Options{Tags: []string{"app:1"}})
	if second.img.ID != first.img.ID {
		t.Fatalf("rebuild gave %s, want %s", second.img.ID, first.img.ID)
	}
	if n := strings.Count(second.out, " ---> Using cache\n"); n != 12 {
		t.Errorf("want 12 cache hits (all steps but FROM), got %d:\n%s", n, second.out)
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("an unchanged rebuild wrote to the store:\n%s", strings.Join(d, "\n"))
	}
}

func TestOneChangedFileReusesEarlierLayers(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	first := mustBuild(t, s, dir, appDockerfile, Options{})
	// Touching a file without changing it keeps the cache (content, not mtime).
	if err := os.Chtimes(filepath.Join(dir, "conf.txt"), first.img.Created, first.img.Created); err != nil {
		t.Fatal(err)
	}
	if again := mustBuild(t, s, dir, "", Options{}); again.img.ID != first.img.ID {
		t.Errorf("touching a file invalidated the cache:\n%s", again.out)
	}
	writeFiles(t, dir, map[string]string{"conf.txt": "key=changed"})
	second := mustBuild(t, s, dir, "", Options{})
	if second.img.ID == first.img.ID {
		t.Fatal("changed COPY input gave the same image")
	}
	// Steps 2..5 (ARG, ENV, WORKDIR, COPY bin) hit; COPY conf.txt and all after miss.
	out := second.out
	cut := strings.Index(out, "Step 6/13")
	if strings.Count(out[:cut], "Using cache") != 4 || strings.Contains(out[cut:], "Using cache") {
		t.Errorf("want hits exactly before step 6:\n%s", out)
	}
	if first.img.Layers[1].ChainID != second.img.Layers[1].ChainID || first.img.Layers[2].ChainID == second.img.Layers[2].ChainID {
		t.Errorf("layers: first %v second %v", first.img.Layers, second.img.Layers)
	}
	if got, _ := readImageFile(t, s, second.img, "/etc/app/conf.txt"); got != "key=changed" {
		t.Errorf("conf.txt = %q", got)
	}
	// Metadata changes miss too: mode is an input.
	if err := os.Chmod(filepath.Join(dir, "conf.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if third := mustBuild(t, s, dir, "", Options{}); third.img.ID == second.img.ID {
		t.Error("a changed file mode kept the cache")
	}
}

func TestNoCacheRebuilds(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	mustBuild(t, s, dir, appDockerfile, Options{})
	r := mustBuild(t, s, dir, "", Options{NoCache: true})
	if strings.Contains(r.out, "Using cache") {
		t.Errorf("--no-cache used the cache:\n%s", r.out)
	}
}

func TestCommonPrefixSharesLayers(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	prefix := "FROM scratch\nCOPY bin/ /bin/\nCOPY conf.txt /etc/\n"
	a := mustBuild(t, s, dir, prefix+"CMD [\"/bin/server\"]\n", Options{Tags: []string{"a"}})
	b := mustBuild(t, s, dir, prefix+"COPY unused.txt /\n", Options{Tags: []string{"b"}})
	if strings.Count(b.out, "Using cache") != 2 {
		t.Errorf("second Dockerfile should reuse both COPY steps:\n%s", b.out)
	}
	if a.img.Layers[1].ChainID != b.img.Layers[1].ChainID || len(b.img.Layers) != 3 {
		t.Errorf("layers not shared: %v vs %v", a.img.Layers, b.img.Layers)
	}
}

func TestFailedRunResumesAtFailedStep(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	df := "FROM scratch\nCOPY bin/ /bin/\nENV A=1\nRUN make all\nCOPY conf.txt /etc/\n"
	runner := &fakeRunner{fn: func(call int, r RunRequest) error {
		if call == 1 {
			r.Output.Write([]byte("compiling...\nerror: missing semicolon\n"))
			return exitError(2)
		}
		return os.WriteFile(filepath.Join(r.UpperDir, "built"), []byte("ok"), 0o644)
	}}
	r := build(t, s, dir, df, Options{Runner: runner})
	if r.err == nil {
		t.Fatal("a failing RUN must fail the build")
	}
	for _, want := range []string{"Dockerfile:4: RUN make all", "exit code 2", "error: missing semicolon"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
	var ee exitError
	if !errors.As(r.err, &ee) || ee != 2 {
		t.Errorf("the runner's exit error is not wrapped: %v", r.err)
	}
	r = mustBuild(t, s, dir, "", Options{Runner: runner})
	if runner.calls != 2 {
		t.Errorf("runner calls = %d, want 2", runner.calls)
	}
	if strings.Count(r.out, "Using cache") != 2 || !strings.Contains(r.out, "Step 4/5 : RUN make all\n ---> Running in") {
		t.Errorf("second build must reuse steps 2-3 and run step 4:\n%s", r.out)
	}
	if got, _ := readImageFile(t, s, r.img, "/built"); got != "ok" {
		t.Errorf("file written by RUN = %q", got)
	}
	if mustBuild(t, s, dir, "", Options{Runner: runner}); runner.calls != 2 {
		t.Errorf("a cached RUN ran again (calls = %d)", runner.calls)
	}
	// A cached RUN needs no runner; an uncached one fails clearly.
	mustBuild(t, s, dir, "", Options{})
	r = build(t, s, dir, "", Options{NoCache: true})
	if r.err == nil || !strings.Contains(r.err.Error(), "Dockerfile:4") || !errors.Is(r.err, errNoRunner) {
		t.Errorf("RUN without a runner: %v", r.err)
	}
}

func TestRunRequest(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	df := `FROM scratch
COPY bin/ /bin/
ARG MODE=fast
ENV HOME=/root
WORKDIR /src
USER 42
RUN echo $MODE > out
SHELL ["/bin/bash", "-e", "-c"]
RUN --network=host ["/bin/tool", "x"]
RUN echo again
`
	runner := &fakeRunner{fn: func(call int, r RunRequest) error {
		if call == 1 {
			if err := os.Mkdir(filepath.Join(r.UpperDir, "src"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(r.UpperDir, "src", "out"), []byte("fast\n"), 0o644)
		}
		return nil
	}}
	r := mustBuild(t, s, dir, df, Options{Runner: runner})
	if len(runner.reqs) != 3 {
		t.Fatalf("runner calls = %d", len(runner.reqs))
	}
	q := runner.reqs[0]
	if d := cmp.Diff([]string{"/bin/sh", "-c", "echo $MODE > out"}, q.Args); d != "" {
		t.Errorf("shell form args: %s", d)
	}
	if !slices.Contains(q.Env, "MODE=fast") || !slices.Contains(q.Env, "HOME=/root") || q.Cwd != "/src" || q.User != "42" || q.Network != "none" {
		t.Errorf("request = %+v", q)
	}
	if len(q.LowerDirs) != 2 || q.UpperDir == "" || q.WorkDir == "" {
		t.Errorf("dirs: lower %v upper %q work %q", q.LowerDirs, q.UpperDir, q.WorkDir)
	}
	if _, err := os.Stat(q.UpperDir); !os.IsNotExist(err) {
		t.Errorf("upper dir left behind: %v", err)
	}
	if d := cmp.Diff([]string{"/bin/tool", "x"}, runner.reqs[1].Args); d != "" || runner.reqs[1].Network != "host" {
		t.Errorf("exec form: %s network %q", d, runner.reqs[1].Network)
	}
	if d := cmp.Diff([]string{"/bin/bash", "-e", "-c", "echo again"}, runner.reqs[2].Args); d != "" {
		t.Errorf("SHELL: %s", d)
	}
	if got, _ := readImageFile(t, s, r.img, "/src/out"); got != "fast\n" {
		t.Errorf("/src/out = %q", got)
	}
	// A different build arg is a different RUN.
	mustBuild(t, s, dir, "", Options{Runner: runner, BuildArgs: map[string]string{"MODE": "slow"}})
	if len(runner.reqs) != 6 || !slices.Contains(runner.reqs[3].Env, "MODE=slow") {
		t.Errorf("build arg change: calls %d", len(runner.reqs))
	}
}

func TestMultiStageAndTarget(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	df := `FROM scratch AS build
COPY bin/ /out/
COPY conf.txt /out/conf/

FROM scratch AS test
COPY --from=build /out/conf /conf

FROM scratch
COPY --from=build --chown=7:8 /out/server /srv/
COPY --from=0 /out/c* /conf-glob/
`
	r := mustBuild(t, s, dir, df, Options{Tags: []string{"final"}})
	if got, _ := readImageFile(t, s, r.img, "/srv/server"); got != "#!binary" {
		t.Errorf("/srv/server = %q", got)
	}
	if n, _ := statImage(t, s, r.img, "/srv/server"); func() bool { u, g := n.owner(); return u != 7 || g != 8 }() {
		t.Error("--chown on COPY --from not applied")
	}
	if got, _ := readImageFile(t, s, r.img, "/conf-glob/conf.txt"); got != "key=value" {
		t.Errorf("glob COPY --from: %q", got)
	}
	if _, ok := statImage(t, s, r.img, "/out"); ok {
		t.Error("the build stage leaked into the final image")
	}
	tr := mustBuild(t, s, dir, "", Options{Target: "test", Tags: []string{"test"}})
	if got, _ := readImageFile(t, s, tr.img, "/conf/conf.txt"); got != "key=value" {
		t.Errorf("target test: /conf/conf.txt = %q", got)
	}
	if strings.Contains(tr.out, "Step 6/") || !strings.Contains(tr.out, "Step 5/5") {
		t.Errorf("--target must stop after the test stage:\n%s", tr.out)
	}
	if r := build(t, s, dir, "", Options{Target: "nope"}); r.err == nil || !strings.Contains(r.err.Error(), `"nope"`) {
		t.Errorf("unknown target: %v", r.err)
	}
	// A local image as COPY --from and FROM.
	df2 := "FROM final\nCOPY --from=test /conf/conf.txt /again.txt\n"
	r2 := mustBuild(t, s, dir, df2, Options{})
	if got, _ := readImageFile(t, s, r2.img, "/again.txt"); got != "key=value" || len(r2.img.Layers) != len(r.img.Layers)+1 {
		t.Errorf("FROM local image: %q, %d layers", got, len(r2.img.Layers))
	}
	if got, _ := readImageFile(t, s, r2.img, "/srv/server"); got != "#!binary" {
		t.Errorf("FROM local image lost its files: %q", got)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	cases := []struct{ df, want string }{
		{"FROM scratch\nFROM nothere:1\n", `Dockerfile:2: FROM nothere:1: image "nothere:1" is not in the local store: build, pull or load it first`},
		{"FROM scratch\nCOPY missing.txt /\n", "Dockerfile:2: COPY missing.txt /: COPY /missing.txt: file not found in the build context"},
		{"FROM scratch\nCOPY *.nomatch /\n", "no source files were specified"},
		{"FROM scratch\nCOPY bin/server conf.txt /x\n", "must be a directory and end with a /"},
		{"FROM scratch\nADD https://example.com/x.tgz /\n", "no network access"},
		{"FROM scratch\nCOPY --from=later /x /\nFROM scratch AS later\n", "earlier stages"},
		{"FROM scratch\nCOPY --from=ghost /x /\n", "build, pull or load it first"},
		{"FROM scratch\nHEALTHCHECK CMD true\n", "Dockerfile:2: HEALTHCHECK"},
		{"FROM scratch\nCOPY --chown=bob conf.txt /\n", "unable to find user bob"},
		{"FROM scratch\nEXPOSE 80/icmp\n", "invalid protocol"},
		{"FROM scratch\nBOGUS x\n", "unknown instruction"},
		{"COPY x /\n", "FROM"},
	}
	for _, c := range cases {
		r := build(t, s, dir, c.df, Options{})
		if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.df, r.err, c.want)
		}
	}
}

func TestUnusedBuildArgWarning(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	r := mustBuild(t, s, dir, "FROM scratch\nARG USED\nENV X=$USED\n", Options{BuildArgs: map[string]string{"USED": "1", "EXTRA": "2", "HTTP_PROXY": "p"}})
	if !strings.Contains(r.out, "[Warning] One or more build-args [EXTRA] were not consumed") {
		t.Errorf("no warning:\n%s", r.out)
	}
	if !slices.Contains(r.img.Config.Config.Env, "X=1") {
		t.Errorf("env = %v", r.img.Config.Config.Env)
	}
}

func TestLabelsOption(t *testing.T) {
	s := openStore(t)
	dir := appContext(t)
	r := mustBuild(t, s, dir, "FROM scratch\nCOPY conf.txt /\n", Options{Labels: map[string]string{"b": "2", "a": "1"}})
	if d := cmp.Diff(map[string]string{"a": "1", "b": "2"}, r.img.Config.Config.Labels); d != "" {
		t.Errorf("labels: %s", d)
	}
	if !strings.Contains(r.out, "Step 3/3 : LABEL a=1 b=2\n") {
		t.Errorf("output (want the labels in one step):\n%s", r.out)
	}
	long := strings.Repeat("x", 100)
	r = mustBuild(t, s, dir, "FROM scratch\nCOPY conf.txt /\n", Options{Labels: map[string]string{"spec": long}})
	if r.img.Config.Config.Labels["spec"] != long || !strings.Contains(r.out, "LABEL spec="+strings.Repeat("x", 40)+"…\n") {
		t.Errorf("a long label: stored %d bytes; output (want it shortened):\n%s", len(r.img.Config.Config.Labels["spec"]), r.out)
	}
}

func TestHeredocEntrypointAndArgCache(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	df := "FROM scratch\nCOPY <<EOF /etc/motd\nhello $NAME\nEOF\nCMD [\"base\"]\n"
	base := mustBuild(t, s, dir, df, Options{Tags: []string{"base"}})
	if got, _ := readImageFile(t, s, base.img, "/etc/motd"); got != "hello $NAME\n" {
		t.Errorf("heredoc COPY: %q", got)
	}
	// A new ENTRYPOINT drops the CMD inherited from the base image, unless the stage sets one.
	r := mustBuild(t, s, dir, "FROM base\nENTRYPOINT [\"/app\"]\n", Options{})
	if r.img.Config.Config.Cmd != nil {
		t.Errorf("inherited CMD kept: %v", r.img.Config.Config.Cmd)
	}
	r = mustBuild(t, s, dir, "FROM base\nCMD [\"x\"]\nENTRYPOINT [\"/app\"]\n", Options{})
	if d := cmp.Diff([]string{"x"}, r.img.Config.Config.Cmd); d != "" {
		t.Errorf("CMD of the stage lost: %s", d)
	}
	// A --build-arg that changes an ARG's value changes that step's result.
	a := mustBuild(t, s, dir, "FROM scratch\nARG V=1\n", Options{})
	b := mustBuild(t, s, dir, "", Options{BuildArgs: map[string]string{"V": "2"}})
	if a.img.ID == b.img.ID || strings.Contains(b.out, "Using cache") {
		t.Errorf("ARG value change hit the cache:\n%s", b.out)
	}
}

func TestRunLayerKeepsWhiteouts(t *testing.T) {
	testutil.NeedRoot(t, "overlay whiteouts are character devices")
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gone": "x", "kept": "y"})
	runner := &fakeRunner{fn: func(_ int, r RunRequest) error {
		// What overlayfs leaves in the upper dir for `rm /gone; echo new > /new`.
		if err := unix.Mknod(filepath.Join(r.UpperDir, "gone"), unix.S_IFCHR, 0); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(r.UpperDir, "new"), []byte("new"), 0o600)
	}}
	r := mustBuild(t, s, dir, "FROM scratch\nCOPY gone kept /\nRUN rm /gone && echo new > /new\n", Options{Runner: runner})
	if _, ok := statImage(t, s, r.img, "/gone"); ok {
		t.Error("a file removed by RUN is still in the image")
	}
	if got, _ := readImageFile(t, s, r.img, "/kept"); got != "y" {
		t.Errorf("/kept = %q", got)
	}
	if n, ok := statImage(t, s, r.img, "/new"); !ok || n.fi.Mode().Perm() != 0o600 {
		t.Errorf("/new: %v", ok)
	}
	if len(r.img.Layers) != 2 {
		t.Errorf("layers = %d, want 2", len(r.img.Layers))
	}
}

func TestStageStateIsPartOfTheKey(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	// Same parent image and instruction, different stage state (SHELL, CMD set in this stage).
	x := mustBuild(t, s, dir, "FROM scratch AS a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD [\"x\"]\nENTRYPOINT run\n", Options{})
	y := mustBuild(t, s, dir, "FROM scratch AS a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD [\"x\"]\nFROM a\nENTRYPOINT run\n", Options{})
	if d := cmp.Diff([]string{"/bin/bash", "-c", "run"}, x.img.Config.Config.Entrypoint); d != "" || x.img.Config.Config.Cmd == nil {
		t.Errorf("x: entrypoint %v cmd %v", x.img.Config.Config.Entrypoint, x.img.Config.Config.Cmd)
	}
	if d := cmp.Diff([]string{"/bin/sh", "-c", "run"}, y.img.Config.Config.Entrypoint); d != "" || y.img.Config.Config.Cmd != nil {
		t.Errorf("y: entrypoint %v cmd %v", y.img.Config.Config.Entrypoint, y.img.Config.Config.Cmd)
	}
}

func TestTagsAreNormalized(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	r := mustBuild(t, s, dir, "FROM scratch\nENV A=1\n", Options{Tags: []string{"docker.io/library/web", "registry.local:5000/team/api:v2"}})
	for _, want := range []string{"Successfully tagged web:latest\n", "Successfully tagged registry.local:5000/team/api:v2\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if _, err := s.Resolve("web:latest"); err != nil {
		t.Error(err)
	}
	if r := build(t, s, dir, "", Options{Tags: []string{"Bad:Tag"}}); r.err == nil || !strings.Contains(r.err.Error(), `invalid tag "Bad:Tag"`) {
		t.Errorf("bad tag: %v", r.err)
	}
}
