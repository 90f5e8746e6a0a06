package localbackend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

func namesOf(vs []volume.Volume) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestVolumes(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	_, evs, cancel := b.SubscribeEvents(time.Time{})
	defer cancel()

	v, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "data", Driver: "local", Labels: map[string]string{"app": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "data" || v.Driver != "local" || v.Scope != "local" || v.Labels["app"] != "web" || !strings.HasSuffix(v.Mountpoint, "/data/_data") {
		t.Fatalf("created %+v", v)
	}
	if _, err := time.Parse(time.RFC3339, v.CreatedAt); err != nil {
		t.Fatalf("CreatedAt %q: %v", v.CreatedAt, err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "data"})
	if err != nil || again.CreatedAt != v.CreatedAt || again.Labels["app"] != "web" {
		t.Fatalf("create again: %+v, %v", again, err)
	}
	if b, err := os.ReadFile(filepath.Join(v.Mountpoint, "f")); err != nil || string(b) != "keep me" {
		t.Fatalf("data after create again: %q, %v", b, err)
	}
	if _, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "data", Labels: map[string]string{"app": "blog"}}); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "{app=web}") {
		t.Fatalf("create again with other labels = %v, want a conflict naming the labels it has", err)
	}
	anon, err := b.VolumeCreate(ctx, volume.CreateRequest{})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) {
		t.Fatalf("anonymous: %+v, %v", anon, err)
	}
	if _, ok := anon.Labels["com.docker.volume.anonymous"]; !ok {
		t.Fatalf("anonymous volume labels %v", anon.Labels)
	}
	if _, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "x", Driver: "nfs"}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("create with driver nfs: %v", err)
	}
	if _, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "opts", DriverOpts: map[string]string{"type": "tmpfs"}}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("create with options: %v", err)
	}
	if _, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "spare"}); err != nil {
		t.Fatal(err)
	}

	if _, err := b.VolumeInspect(ctx, "nosuch"); !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "get nosuch: no such volume") {
		t.Errorf("inspect nosuch: %v", err)
	}
	if _, err := b.VolumeInspect(ctx, "../etc"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect ../etc: %v", err)
	}

	// A container using "data" makes it in use.
	build(t, b, "bb:1", "CMD [\"true\"]\n")
	cid, err := b.e.CreateContainer(ctx, engine.ContainerConfig{Name: "user", Image: "bb:1",
		Mounts: []engine.Mount{{Type: engine.MountVolume, Source: "data", Target: "/data"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = b.VolumeRemove(ctx, "data", true)
	if !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "remove data: volume is in use - ["+cid+"]") {
		t.Fatalf("rm of a volume in use: %v", err)
	}

	for f, want := range map[string][]string{
		dockerapi.Filters{}.Add("label", "app=web").String():               {"data"},
		dockerapi.Filters{}.Add("label", "app").String():                   {"data"},
		dockerapi.Filters{}.Add("label!", "app").String():                  {anon.Name, "spare"},
		dockerapi.Filters{}.Add("name", "par").String():                    {"spare"},
		dockerapi.Filters{}.Add("name", "dat").Add("name", "spa").String(): {"data", "spare"},
		dockerapi.Filters{}.Add("dangling", "false").String():              {"data"},
		dockerapi.Filters{}.Add("dangling", "true").String():               {anon.Name, "spare"},
		dockerapi.Filters{}.Add("driver", "local").String():                {anon.Name, "data", "spare"},
		"{}": {anon.Name, "data", "spare"},
	} {
		fs, _ := dockerapi.ParseFilters(f)
		got, err := b.VolumeList(ctx, fs)
		slices.Sort(want)
		if err != nil || !slices.Equal(namesOf(got), want) {
			t.Errorf("volume ls --filter %s = %v, %v; want %v", f, namesOf(got), err, want)
		}
	}
	if _, err := b.VolumeList(ctx, dockerapi.Filters{}.Add("dangling", "maybe")); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("dangling=maybe: %v", err)
	}

	// Docker 23+: prune takes anonymous volumes only, all=true the named ones too.
	rep, err := b.VolumesPrune(ctx, dockerapi.Filters{})
	if err != nil || !slices.Equal(rep.VolumesDeleted, []string{anon.Name}) {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	rep, err = b.VolumesPrune(ctx, dockerapi.Filters{}.Add("all", "true"))
	if err != nil || !slices.Equal(rep.VolumesDeleted, []string{"spare"}) {
		t.Fatalf("prune all = %+v, %v", rep, err)
	}
	if _, err := b.VolumesPrune(ctx, dockerapi.Filters{}.Add("label!", "x")); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("prune label!: %v", err)
	}

	if err := b.e.RemoveContainer(ctx, cid, true); err != nil {
		t.Fatal(err)
	}
	if err := b.VolumeRemove(ctx, "data", false); err != nil {
		t.Fatal(err)
	}
	if err := b.VolumeRemove(ctx, "data", false); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("rm twice: %v", err)
	}
	if err := b.VolumeRemove(ctx, "data", true); err != nil {
		t.Errorf("rm -f of a missing volume: %v", err)
	}

	seen := map[events.Action]int{}
	deadline := time.After(5 * time.Second)
	for seen[events.ActionDestroy] < 3 || seen[events.ActionCreate] < 3 || seen[events.ActionPrune] < 2 {
		select {
		case m := <-evs:
			if m.Type == events.VolumeEventType {
				seen[m.Action]++
				if m.Actor.Attributes["driver"] != "local" {
					t.Errorf("volume event without driver: %+v", m)
				}
			}
		case <-deadline:
			t.Fatalf("volume events seen: %v", seen)
		}
	}
}
