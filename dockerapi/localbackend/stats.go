package localbackend

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/runtime"
)

// statsInterval is how often a stats stream sends a sample, and how far
// apart a single sample's cpu_stats and precpu_stats are: dockerd's 1 s.
const statsInterval = time.Second

// ContainerStats implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStats(ctx context.Context, ref string, o dockerapi.StatsOptions, send func(container.StatsResponse) error) error {
	var pre statsSample
	cur, err := b.sampleStats(ctx, ref)
	if err != nil {
		return err
	}
	if !o.Stream && !o.OneShot && cur.s != nil {
		if !sleepCtx(ctx, statsInterval) {
			return ctx.Err()
		}
		pre = cur
		if cur, err = b.sampleStats(ctx, cur.id); err != nil {
			return err
		}
	}
	for {
		if err := send(statsResponse(cur, pre)); err != nil || !o.Stream {
			return err
		}
		if !sleepCtx(ctx, statsInterval) {
			return nil // the client went away
		}
		pre = cur
		if cur, err = b.sampleStats(ctx, cur.id); err != nil {
			return err
		}
	}
}

// statsSample is one reading of a container: s is nil when it was not
// running (stats then zero, as dockerd's).
type statsSample struct {
	name, id string
	s        *runtime.StatsSample
}

func (b *Backend) sampleStats(ctx context.Context, ref string) (statsSample, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return statsSample{}, err
	}
	out := statsSample{name: "/" + c.Name, id: c.ID}
	if c.State.Status != runtime.StateRunning {
		return out, nil
	}
	s, err := b.e.ContainerStats(ctx, c.ID)
	if err != nil {
		// Exited between the two reads (its cgroup went with it)?
		if c, ierr := b.inspect(c.ID); ierr == nil && c.State.Status != runtime.StateRunning {
			return out, nil
		}
		return out, err
	}
	out.s = &s
	return out, nil
}

// statsResponse is dockerd's stats object for cur, with precpu_stats from
// pre when there is one. The memory limit is the cgroup's, or the host's
// memory when the container has none (dockerd's rule); there is no
// networks key: containers have no network of their own here.
func statsResponse(cur, pre statsSample) container.StatsResponse {
	r := container.StatsResponse{Name: cur.name, ID: cur.id}
	if cur.s == nil {
		return r
	}
	s := cur.s
	r.Read, r.CPUStats = s.Read, cpuStats(s)
	if pre.s != nil {
		r.PreRead, r.PreCPUStats = pre.s.Read, cpuStats(pre.s)
	}
	limit := s.Memory.Limit
	if limit == 0 || limit > s.Host.Memory {
		limit = s.Host.Memory
	}
	r.MemoryStats = container.MemoryStats{Usage: s.Memory.Usage, MaxUsage: s.Memory.MaxUsage, Limit: limit, Failcnt: s.Memory.Failcnt, Stats: s.Memory.Stat}
	r.PidsStats = container.PidsStats{Current: s.Pids.Current, Limit: s.Pids.Limit}
	r.BlkioStats.IoServiceBytesRecursive = []container.BlkioStatEntry{}
	for _, io := range s.IO {
		r.BlkioStats.IoServiceBytesRecursive = append(r.BlkioStats.IoServiceBytesRecursive,
			container.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "read", Value: io.Read},
			container.BlkioStatEntry{Major: io.Major, Minor: io.Minor, Op: "write", Value: io.Write})
	}
	return r
}

func cpuStats(s *runtime.StatsSample) container.CPUStats {
	c := s.CPU
	return container.CPUStats{
		CPUUsage:       container.CPUUsage{TotalUsage: c.Total, PercpuUsage: c.PerCPU, UsageInKernelmode: c.System, UsageInUsermode: c.User},
		SystemUsage:    s.Host.CPUTime,
		OnlineCPUs:     uint32(s.Host.OnlineCPUs),
		ThrottlingData: container.ThrottlingData{Periods: c.Periods, ThrottledPeriods: c.ThrottledPeriods, ThrottledTime: c.ThrottledTime},
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
