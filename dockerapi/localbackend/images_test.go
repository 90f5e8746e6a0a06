package localbackend

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

func tagsOf(list []image.Summary) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.RepoTags...)
	}
	slices.Sort(out)
	return out
}

func TestImageBuildInspectHistory(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	extra := "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nWORKDIR /app\nCOPY hello.txt .\n" +
		"LABEL team=web\nEXPOSE 8080/tcp\nUSER 1000\nSTOPSIGNAL SIGINT\nENTRYPOINT [\"/bin/sh\", \"-c\"]\nCMD [\"cat hello.txt\"]\n"
	tarball := busyboxContext(t, extra, tarFile{Name: "hello.txt", Body: "hello\n"})
	var progress bytes.Buffer
	id, err := b.ImageBuild(ctx, bytes.NewReader(tarball), dockerapi.BuildOptions{Tags: []string{"docker.io/library/web:1"}, Labels: map[string]string{"built": "api"}}, &progress)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, progress.String())
	}
	out := progress.String()
	if !strings.Contains(out, "Step 1/") || strings.Contains(out, "Successfully built") {
		t.Fatalf("progress should carry the steps and leave the closing lines to the server:\n%s", out)
	}

	list, err := b.ImageList(ctx, dockerapi.ImageListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != id || !slices.Equal(list[0].RepoTags, []string{"web:1"}) || list[0].Size < 1<<20 {
		t.Fatalf("images = %+v, want one web:1 of %s with busybox's size", list, id)
	}
	all, _ := b.ImageList(ctx, dockerapi.ImageListOptions{All: true})
	if len(all) <= 1 {
		t.Fatalf("images -a should show the intermediate images too, got %d", len(all))
	}
	for _, f := range []dockerapi.Filters{
		dockerapi.Filters{}.Add("reference", "web"),
		dockerapi.Filters{}.Add("reference", "web:*"),
		dockerapi.Filters{}.Add("label", "team=web"),
		dockerapi.Filters{}.Add("dangling", "false"),
	} {
		if got, err := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: f}); err != nil || len(got) != 1 {
			t.Errorf("filter %s: %d images, %v", f, len(got), err)
		}
	}
	for _, f := range []dockerapi.Filters{
		dockerapi.Filters{}.Add("reference", "other"),
		dockerapi.Filters{}.Add("label", "team=db"),
		dockerapi.Filters{}.Add("dangling", "true"),
	} {
		if got, err := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: f}); err != nil || len(got) != 0 {
			t.Errorf("filter %s: %d images, %v", f, len(got), err)
		}
	}
	if _, err := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: dockerapi.Filters{}.Add("colour", "red")}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("unknown filter: %v", err)
	}

	insp, err := b.ImageInspect(ctx, "web:1")
	if err != nil {
		t.Fatal(err)
	}
	c := insp.Config
	switch {
	case insp.ID != id || !slices.Equal(insp.RepoTags, []string{"web:1"}) || insp.RepoDigests == nil:
		t.Errorf("inspect names: %+v", insp)
	case !slices.Equal(c.Cmd, []string{"cat hello.txt"}) || !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c"}):
		t.Errorf("inspect command: %v %v", c.Entrypoint, c.Cmd)
	case !slices.Contains(c.Env, "PATH=/bin") || c.WorkingDir != "/app" || c.User != "1000" || c.StopSignal != "SIGINT":
		t.Errorf("inspect config: %+v", c)
	case c.Labels["team"] != "web" || c.Labels["built"] != "api":
		t.Errorf("inspect labels: %v", c.Labels)
	case len(c.ExposedPorts) != 1:
		t.Errorf("inspect ports: %v", c.ExposedPorts)
	case insp.Os != "linux" || insp.Architecture == "" || insp.Size != list[0].Size:
		t.Errorf("inspect platform/size: %s/%s %d", insp.Os, insp.Architecture, insp.Size)
	case insp.RootFS.Type != "layers" || len(insp.RootFS.Layers) != 4: // COPY busybox, RUN, WORKDIR, COPY
		t.Errorf("inspect rootfs: %+v", insp.RootFS)
	case insp.GraphDriver == nil || insp.GraphDriver.Name != "overlay2" || insp.GraphDriver.Data["UpperDir"] == "":
		t.Errorf("inspect graph driver: %+v", insp.GraphDriver)
	}
	if _, err := time.Parse(time.RFC3339Nano, insp.Created); err != nil {
		t.Errorf("inspect Created %q: %v", insp.Created, err)
	}
	if _, err := b.ImageInspect(ctx, "nosuch:img"); !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "No such image: nosuch:img") {
		t.Errorf("inspect of a missing image: %v", err)
	}

	hist, err := b.ImageHistory(ctx, "web:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) < 10 || hist[0].ID != id || !slices.Equal(hist[0].Tags, []string{"web:1"}) || !strings.Contains(hist[0].CreatedBy, "built=api") {
		t.Fatalf("history head: %+v (of %d)", hist[0], len(hist))
	}
	var sized int
	for _, h := range hist {
		if h.Size > 0 {
			sized++
		}
		if h.ID == "" || h.Created == 0 {
			t.Errorf("history item %+v", h)
		}
	}
	last := hist[len(hist)-1]
	if sized < 3 || !strings.Contains(last.CreatedBy, "COPY") || last.Size < 1<<20 || last.ID == "<missing>" {
		t.Errorf("history: %d items with a size; oldest %+v", sized, last)
	}
}

func TestImageBuildRefusals(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	cases := map[string]struct {
		ctx  []byte
		opts dockerapi.BuildOptions
	}{
		"missing dockerfile": {makeTar(t, tarFile{Name: "a", Body: "x"}), dockerapi.BuildOptions{}},
		"dockerfile outside": {makeTar(t, tarFile{Name: "Dockerfile", Body: "FROM scratch\n"}), dockerapi.BuildOptions{Dockerfile: "../Dockerfile"}},
		"symlink to host":    {makeTar(t, tarFile{Name: "Dockerfile", Link: "/etc/passwd"}), dockerapi.BuildOptions{}},
		"context escape":     {makeTar(t, tarFile{Name: "../evil", Body: "x"}), dockerapi.BuildOptions{}},
		"bad tag":            {makeTar(t, tarFile{Name: "Dockerfile", Body: "FROM scratch\n"}), dockerapi.BuildOptions{Tags: []string{"UPPER:case"}}},
	}
	for name, c := range cases {
		if _, err := b.ImageBuild(ctx, bytes.NewReader(c.ctx), c.opts, nil); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}

	// A state root reached through a symlink is no escape.
	link := filepath.Join(t.TempDir(), "root")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := newBackendAt(t, link).ImageBuild(ctx, bytes.NewReader(makeTar(t, tarFile{Name: "Dockerfile", Body: "FROM scratch\nLABEL a=b\n"})), dockerapi.BuildOptions{}, nil); err != nil {
		t.Fatalf("build under a symlinked root: %v", err)
	}

	// A gzip'd context (docker build --compress) with the Dockerfile
	// elsewhere (-f) and a build arg.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(makeTar(t, tarFile{Name: "a.txt", Body: "a"}, tarFile{Name: "build/Containerfile", Body: "FROM scratch\nARG DEST\nCOPY a.txt $DEST\n"}))
	zw.Close()
	dest := "/b.txt"
	id, err := b.ImageBuild(ctx, &gz, dockerapi.BuildOptions{Dockerfile: "build/Containerfile", BuildArgs: map[string]*string{"DEST": &dest, "UNSET": nil}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := b.ImageHistory(ctx, id)
	if err != nil || !strings.Contains(hist[0].CreatedBy, "/b.txt") {
		t.Fatalf("history of the gzip'd build: %+v, %v", hist, err)
	}
}

func TestImageTagRemovePrune(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	_, evs, cancel := b.SubscribeEvents(time.Time{})
	defer cancel()
	id := build(t, b, "app:1", "LABEL keep=no\nCMD [\"true\"]\n")

	if err := b.ImageTag(ctx, "app:1", "docker.io/library/app", "2"); err != nil {
		t.Fatal(err)
	}
	if err := b.ImageTag(ctx, id[7:19], "localhost:5000/team/app", ""); err != nil {
		t.Fatal(err)
	}
	list, _ := b.ImageList(ctx, dockerapi.ImageListOptions{})
	if got := tagsOf(list); !slices.Equal(got, []string{"app:1", "app:2", "localhost:5000/team/app:latest"}) {
		t.Fatalf("tags = %v", got)
	}
	if err := b.ImageTag(ctx, "nosuch", "x", "1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("tag of a missing image: %v", err)
	}
	if err := b.ImageTag(ctx, "app:1", "Bad Name", "1"); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("tag with a bad name: %v", err)
	}

	del, err := b.ImageRemove(ctx, "app:2", dockerapi.ImageRemoveOptions{})
	if err != nil || len(del) != 1 || del[0].Untagged != "app:2" {
		t.Fatalf("rmi app:2 = %+v, %v", del, err)
	}
	if _, err := b.ImageRemove(ctx, id, dockerapi.ImageRemoveOptions{}); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("rmi by ID of an image with two tags: %v, want a conflict", err)
	}
	b.ImageRemove(ctx, "localhost:5000/team/app", dockerapi.ImageRemoveOptions{})

	cid, err := b.e.CreateContainer(ctx, engine.ContainerConfig{Name: "user", Image: "app:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImageRemove(ctx, "app:1", dockerapi.ImageRemoveOptions{}); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("rmi of an image in use: %v, want a conflict", err)
	}
	if rep, err := b.ImagesPrune(ctx, dockerapi.Filters{}.Add("dangling", "false")); err != nil || len(rep.ImagesDeleted) != 0 {
		t.Fatalf("prune -a with the image in use: %+v, %v", rep, err)
	}
	if err := b.e.RemoveContainer(ctx, cid, true); err != nil {
		t.Fatal(err)
	}
	del, err = b.ImageRemove(ctx, "app:1", dockerapi.ImageRemoveOptions{})
	if err != nil || len(del) < 2 || del[0].Untagged != "app:1" || del[1].Deleted != id {
		t.Fatalf("rmi app:1 = %+v, %v", del, err)
	}
	if _, err := b.ImageRemove(ctx, "app:1", dockerapi.ImageRemoveOptions{}); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("rmi twice: %v", err)
	}
	if all, _ := b.ImageList(ctx, dockerapi.ImageListOptions{All: true}); len(all) != 0 {
		t.Fatalf("images left after rmi: %+v", all)
	}

	// Rebuilding a tag leaves the old image dangling; prune takes it.
	old := build(t, b, "app:1", "CMD [\"old\"]\n")
	build(t, b, "app:1", "CMD [\"new\"]\n")
	dangling, _ := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: dockerapi.Filters{}.Add("dangling", "true")})
	if len(dangling) != 1 || dangling[0].ID != old {
		t.Fatalf("dangling = %+v, want %s", dangling, old)
	}
	rep, err := b.ImagesPrune(ctx, dockerapi.Filters{}.Add("dangling", "true"))
	if err != nil || len(rep.ImagesDeleted) == 0 || rep.ImagesDeleted[0].Deleted != old {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	// prune -a with a label filter keeps what does not match.
	build(t, b, "other:1", "LABEL keep=no\nCMD [\"x\"]\n")
	rep, err = b.ImagesPrune(ctx, dockerapi.Filters{}.Add("dangling", "false").Add("label", "keep=no"))
	if err != nil || len(rep.ImagesDeleted) == 0 || rep.ImagesDeleted[0].Untagged != "other:1" || rep.SpaceReclaimed == 0 {
		t.Fatalf("prune -a --filter label = %+v, %v", rep, err)
	}
	if list, _ := b.ImageList(ctx, dockerapi.ImageListOptions{}); !slices.Equal(tagsOf(list), []string{"app:1"}) {
		t.Fatalf("after prune: %v", tagsOf(list))
	}
	if _, err := b.ImagesPrune(ctx, dockerapi.Filters{}.Add("until", "yesterday")); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("prune until=yesterday: %v", err)
	}
	build(t, b, "later:1", "CMD [\"later\"]\n")
	for f, want := range map[string][]string{
		dockerapi.Filters{}.Add("before", "later:1").String(): {"app:1"},
		dockerapi.Filters{}.Add("since", "app:1").String():    {"later:1"},
	} {
		fs, _ := dockerapi.ParseFilters(f)
		if got, err := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: fs}); err != nil || !slices.Equal(tagsOf(got), want) {
			t.Errorf("images --filter %s = %v, %v; want %v", f, tagsOf(got), err, want)
		}
	}
	if _, err := b.ImageList(ctx, dockerapi.ImageListOptions{Filters: dockerapi.Filters{}.Add("since", "nosuch:1")}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("since=nosuch:1: %v", err)
	}
	// prune until= keeps what is newer.
	rep, err = b.ImagesPrune(ctx, dockerapi.Filters{}.Add("dangling", "false").Add("until", "1h"))
	if err != nil || len(rep.ImagesDeleted) != 0 {
		t.Errorf("prune -a until=1h: %+v, %v", rep, err)
	}

	seen := map[events.Action]bool{}
	for len(evs) > 0 {
		m := <-evs
		if m.Type == events.ImageEventType {
			seen[m.Action] = true
		}
	}
	for _, a := range []events.Action{events.ActionTag, events.ActionUnTag, events.ActionDelete, events.ActionPrune} {
		if !seen[a] {
			t.Errorf("no image %s event (saw %v)", a, seen)
		}
	}
}

func TestImageSaveLoadRoundTrip(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	id := build(t, b, "mini:1", "CMD [\"echo\", \"hi\"]\n")
	var archive bytes.Buffer
	if err := b.ImageSave(ctx, []string{"mini:1", "nosuch:1"}, &archive); !errors.Is(err, engine.ErrNotFound) || archive.Len() != 0 {
		t.Fatalf("save with a missing ref: %v, %d bytes written", err, archive.Len())
	}
	if err := b.ImageSave(ctx, []string{"docker.io/library/mini:1"}, &archive); err != nil {
		t.Fatal(err)
	}

	other := newBackend(t)
	var progress bytes.Buffer
	loaded, err := other.ImageLoad(ctx, bytes.NewReader(archive.Bytes()), &progress)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, progress.String())
	}
	if !slices.Equal(loaded, []string{"mini:1"}) || strings.Contains(progress.String(), "Loaded image") {
		t.Fatalf("loaded %v, progress %q", loaded, progress.String())
	}
	insp, err := other.ImageInspect(ctx, "mini:1")
	if err != nil || insp.ID != id || !slices.Equal(insp.Config.Cmd, []string{"echo", "hi"}) {
		t.Fatalf("loaded image: %+v, %v", insp, err)
	}
	// Saved by ID, it loads untagged and is reported by ID.
	archive.Reset()
	if err := b.ImageSave(ctx, []string{id}, &archive); err != nil {
		t.Fatal(err)
	}
	third := newBackend(t)
	if loaded, err = third.ImageLoad(ctx, &archive, nil); err != nil || !slices.Equal(loaded, []string{id}) {
		t.Fatalf("load of an untagged save: %v, %v", loaded, err)
	}
	if _, err := third.ImageLoad(ctx, strings.NewReader("not a tar at all"), nil); !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("load of garbage: %v", err)
	}
}

func TestImageImport(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	rootfs := makeTar(t, tarFile{Name: "etc/motd", Body: "imported\n"}, tarFile{Name: "bin/sh", Link: "busybox"})
	id, err := b.ImageImport(ctx, bytes.NewReader(rootfs), dockerapi.ImportOptions{Repo: "docker.io/library/imp", Tag: "1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	insp, err := b.ImageInspect(ctx, "imp:1")
	if err != nil || insp.ID != id || len(insp.RootFS.Layers) != 1 {
		t.Fatalf("imported: %+v, %v", insp, err)
	}

	id2, err := b.ImageImport(ctx, bytes.NewReader(rootfs), dockerapi.ImportOptions{
		Repo: "imp:2", Message: "from a test", Changes: []string{`CMD ["/bin/sh"]`, "ENV MODE=test", "WORKDIR /etc"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	insp, err = b.ImageInspect(ctx, "imp:2")
	if err != nil || insp.ID != id2 || !slices.Equal(insp.Config.Cmd, []string{"/bin/sh"}) || !slices.Contains(insp.Config.Env, "MODE=test") || insp.Config.WorkingDir != "/etc" {
		t.Fatalf("import with changes: %+v, %v", insp.Config, err)
	}
	hist, _ := b.ImageHistory(ctx, "imp:2")
	if c := hist[len(hist)-1].Comment; c != "from a test" {
		t.Errorf("import message: history comment %q", c)
	}

	for name, o := range map[string]dockerapi.ImportOptions{
		"RUN change":    {Changes: []string{"RUN rm -rf /"}},
		"bad repo":      {Repo: "Not Valid"},
		"other machine": {Platform: "windows/amd64"},
	} {
		if _, err := b.ImageImport(ctx, bytes.NewReader(rootfs), o, nil); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestImagePushPull(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	id := build(t, b, "bb:1", "CMD [\"true\"]\n")
	remote := host + "/team/bb:1"
	if err := b.ImageTag(ctx, "bb:1", host+"/team/bb", "1"); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	if err := b.ImagePush(ctx, remote, dockerapi.PushOptions{RegistryAuth: "e30="}, &progress); err != nil {
		t.Fatalf("push: %v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "1: digest: sha256:") {
		t.Fatalf("push progress %q", progress.String())
	}
	if err := b.ImagePush(ctx, host+"/team/nosuch:1", dockerapi.PushOptions{}, nil); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("push of a missing image: %v", err)
	}

	other := newBackend(t)
	_, evs, cancel := other.SubscribeEvents(time.Time{})
	defer cancel()
	progress.Reset()
	if err := other.ImagePull(ctx, remote, dockerapi.PullOptions{Platform: "linux"}, &progress); err != nil {
		t.Fatalf("pull: %v\n%s", err, progress.String())
	}
	insp, err := other.ImageInspect(ctx, remote)
	if err != nil || insp.ID != id || !slices.Equal(insp.RepoTags, []string{remote}) {
		t.Fatalf("pulled %+v, %v; pushed %s", insp, err, id)
	}
	if m := <-evs; m.Action != events.ActionPull || m.Actor.Attributes["name"] != remote {
		t.Fatalf("pull event %+v", m)
	}
	if err := other.ImagePull(ctx, host+"/team/bb:nosuch", dockerapi.PullOptions{}, nil); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("pull of a missing tag: %v", err)
	}
	if err := other.ImagePull(ctx, "UPPER/case:1", dockerapi.PullOptions{}, nil); !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("pull of a bad reference: %v", err)
	}
	if err := other.ImagePull(ctx, remote, dockerapi.PullOptions{RegistryAuth: "!!"}, nil); !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("pull with a bad auth header: %v", err)
	}
}

func TestDecodeAuth(t *testing.T) {
	for in, want := range map[string]string{
		"":     "",
		"e30=": "",
		base64.URLEncoding.EncodeToString([]byte(`{"username":"me","password":"p?>"}`)):  "me",
		base64.StdEncoding.EncodeToString([]byte(`{"username":"you","password":"p?>"}`)): "you",
	} {
		cfg, err := decodeAuth(in)
		if err != nil || cfg.Username != want {
			t.Errorf("decodeAuth(%q) = %+v, %v; want user %q", in, cfg, err, want)
		}
	}
}
