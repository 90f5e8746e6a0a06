package localbackend

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/internal/testutil"
)

// statsCounter is the backend, counting the ContainerStats in progress.
type statsCounter struct {
	*Backend
	active atomic.Int32
}

func (c *statsCounter) ContainerStats(ctx context.Context, ref string, o dockerapi.StatsOptions, send func(container.StatsResponse) error) error {
	c.active.Add(1)
	defer c.active.Add(-1)
	return c.Backend.ContainerStats(ctx, ref, o, send)
}

// A stats stream sends a sample about every second, each with the one
// before as its precpu, until its client goes away; then it ends on the
// server too.
func TestStatsStreamEndsWithItsClient(t *testing.T) {
	b := newBackend(t)
	buildBusybox(t, b)
	sc := &statsCounter{Backend: b}
	host := serve(t, sc, b.e.Root())
	ctx := context.Background()
	created, err := b.ContainerCreate(ctx, dockerapi.ContainerCreateConfig{Name: "sleeper",
		Config: &container.Config{Image: "busybox:local", Cmd: []string{"sleep", "300"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ContainerStart(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	c, err := moby.New(moby.WithHost(host), moby.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := c.ContainerStats(sctx, "sleeper", moby.ContainerStatsOptions{Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(res.Body)
	var first, second container.StatsResponse
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first.Name != "/sleeper" || first.ID != created.ID || !first.PreRead.IsZero() || first.PidsStats.Current != 1 || first.MemoryStats.Limit == 0 {
		t.Errorf("first sample: %+v", first)
	}
	if !second.PreRead.Equal(first.Read) || !second.Read.After(first.Read) || second.PreCPUStats.SystemUsage != first.CPUStats.SystemUsage {
		t.Errorf("second sample: read %v preread %v, first read %v", second.Read, second.PreRead, first.Read)
	}
	if sc.active.Load() != 1 {
		t.Errorf("%d stats calls in progress, want 1", sc.active.Load())
	}
	cancel()
	res.Body.Close()
	testutil.Eventually(t, 10*time.Second, "the stats stream to end on the server", func() bool { return sc.active.Load() == 0 })
}
