package localbackend

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/reconciler/reconciler/engine"
)

func TestInfoAndDiskUsage(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	id := build(t, b, "bb:1", "CMD [\"true\"]\n")
	build(t, b, "bb:2", "CMD [\"false\"]\n") // shares the busybox layer with bb:1
	v, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "vol"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.e.CreateContainer(ctx, engine.ContainerConfig{Name: "c1", Image: "bb:1",
		Mounts: []engine.Mount{{Type: engine.MountVolume, Source: "vol", Target: "/v"}}}); err != nil {
		t.Fatal(err)
	}

	info, err := b.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Containers != 1 || info.ContainersStopped != 1 || info.ContainersRunning != 0 || info.Driver != "overlay2" || info.DockerRootDir != b.e.Root() {
		t.Fatalf("info = %+v", info)
	}
	if all, _ := b.store().List(); info.Images != len(all) {
		t.Fatalf("info counts %d images, the store has %d", info.Images, len(all))
	}

	du, err := b.DiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if du.LayersSize < 1<<20 || len(du.Containers) != 1 || len(du.Volumes) != 1 {
		t.Fatalf("df = %+v", du)
	}
	var found bool
	for _, img := range du.Images {
		if img.ID == id {
			found = true
			if img.Containers != 1 || img.SharedSize < 1<<20 || img.Size < img.SharedSize {
				t.Errorf("df image %+v: want 1 container and the busybox layer shared", img)
			}
		}
	}
	if !found {
		t.Errorf("df lists no %s: %+v", id, du.Images)
	}
	if u := du.Volumes[0].UsageData; u == nil || u.Size != 1000 || u.RefCount != 1 {
		t.Errorf("df volume usage %+v", u)
	}
}

func TestSubscribeEvents(t *testing.T) {
	b := newBackend(t)
	ctx := context.Background()
	start := time.Now()
	if _, err := b.VolumeCreate(ctx, volume.CreateRequest{Name: "ev"}); err != nil {
		t.Fatal(err)
	}
	// The engine's event reaches the bus asynchronously.
	deadline := time.Now().Add(5 * time.Second)
	for {
		past, _, cancel := b.SubscribeEvents(start)
		cancel()
		if len(past) == 1 && past[0].Type == events.VolumeEventType && past[0].Action == events.ActionCreate && past[0].Actor.ID == "ev" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retained events since the create: %+v", past)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, live, cancel := b.SubscribeEvents(time.Time{})
	if err := b.VolumeRemove(ctx, "ev", false); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-live:
		if m.Action != events.ActionDestroy || m.Actor.ID != "ev" {
			t.Fatalf("live event %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no live destroy event")
	}
	cancel()
	for range live { // drains, then ends: cancel closed the channel
	}
}
