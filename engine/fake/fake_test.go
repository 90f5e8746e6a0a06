package fake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
)

func TestContainerLifecycleAndEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := New()
	events, _ := e.Events(ctx)
	if _, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "web", Image: "app:1"}); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("create without image: got %v, want ErrNotFound", err)
	}
	e.AddImage("app:1")
	id, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "web", Image: "app:1", Labels: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "web", Image: "app:1"}); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("duplicate name: got %v, want ErrConflict", err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveContainer(ctx, id, false); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("remove running: got %v, want ErrConflict", err)
	}
	cs, _ := e.Containers(ctx, map[string]string{"a": "b"})
	if len(cs) != 1 || cs[0].State != engine.StateRunning {
		t.Fatalf("list: %+v", cs)
	}
	if err := e.Kill("web", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("web"); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(time.Second)
	for len(got) < 4 {
		select {
		case ev := <-events:
			if ev.Type == engine.EventContainer {
				got = append(got, ev.Action)
			}
		case <-timeout:
			t.Fatalf("events so far %v", got)
		}
	}
	if got[0] != "create" || got[1] != "start" || got[2] != "die" || got[3] != "destroy" {
		t.Fatalf("events %v", got)
	}
}

func TestImagesAndVolumes(t *testing.T) {
	ctx := context.Background()
	e := New()
	src := engine.ImageSource{Tag: "app:1", Build: &engine.BuildSource{Context: "/ctx"}}
	a, err := e.EnsureImage(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.EnsureImage(ctx, src, nil)
	if a.ID != b.ID {
		t.Fatalf("same source, different IDs %s %s", a.ID, b.ID)
	}
	e.Rebuild("/ctx")
	c, _ := e.EnsureImage(ctx, src, nil)
	if c.ID == a.ID {
		t.Fatal("rebuild kept the ID")
	}
	if img, err := e.InspectImage(ctx, "app:1"); err != nil || img.ID != c.ID {
		t.Fatalf("tag moved: %v %v", img.ID, err)
	}
	if _, err := e.EnsureVolume(ctx, engine.VolumeConfig{Name: "data"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateContainer(ctx, engine.ContainerConfig{Name: "db", Image: "app:1", Mounts: []engine.Mount{{Type: engine.MountVolume, Source: "data", Target: "/d"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveVolume(ctx, "data"); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("remove used volume: %v", err)
	}
	if err := e.RemoveImage(ctx, "app:1"); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("remove used image: %v", err)
	}
	e.FailNext("StartContainer", errors.New("boom"))
	if err := e.StartContainer(ctx, "db"); err == nil || err.Error() != "boom" {
		t.Fatalf("injected failure: %v", err)
	}
	if e.Mutations() == 0 || e.Calls()["StartContainer"] != 1 {
		t.Fatalf("calls %v", e.Calls())
	}
}
