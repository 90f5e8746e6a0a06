package localbackend

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// ContainerUpdate implements dockerapi.ContainerBackend: docker update's
// -m (with --memory-swap equal to it, or -1), --cpus, --cpu-quota,
// --cpu-period, --pids-limit and --restart, on running and stopped
// containers. Any other flag is refused, by name, and nothing changes.
func (b *Backend) ContainerUpdate(ctx context.Context, ref string, u dockerapi.UpdateConfig) (container.UpdateResponse, error) {
	c, err := b.inspect(ref) // Docker's words for a missing container
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if err := refuseUpdate(u); err != nil {
		return container.UpdateResponse{}, err
	}
	r := u.Resources
	var eu engine.ContainerUpdate
	mem := c.Spec.Resources.MemoryBytes
	if r.Memory != 0 {
		mem = r.Memory
		eu.MemoryBytes = &r.Memory
	}
	if r.MemorySwap != 0 && r.MemorySwap != -1 && r.MemorySwap != mem {
		return container.UpdateResponse{}, fmt.Errorf("%w: --memory-swap %d: containers here run without swap: give --memory-swap equal to --memory (%d) or -1", engine.ErrInvalid, r.MemorySwap, mem)
	}
	switch {
	case r.NanoCPUs != 0 && (r.CPUQuota != 0 || r.CPUPeriod != 0):
		return container.UpdateResponse{}, fmt.Errorf("%w: Conflicting options: --cpus and --cpu-quota/--cpu-period cannot both be set", engine.ErrInvalid)
	case r.NanoCPUs < 0:
		return container.UpdateResponse{}, fmt.Errorf("%w: --cpus: Range of CPUs is from 0.01 to the number of CPUs available", engine.ErrInvalid)
	case r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000):
		return container.UpdateResponse{}, fmt.Errorf("%w: --cpu-period: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)", engine.ErrInvalid)
	case r.CPUQuota != 0 && r.CPUQuota != -1 && r.CPUQuota < 1000:
		return container.UpdateResponse{}, fmt.Errorf("%w: --cpu-quota: CPU cfs quota can not be less than 1ms (i.e. 1000)", engine.ErrInvalid)
	case r.NanoCPUs != 0:
		eu.NanoCPUs = &r.NanoCPUs
	case r.CPUQuota != 0 || r.CPUPeriod != 0:
		// Limits run with a 100 ms period: a new period alone keeps the
		// current quota, as the kernel would.
		quota := r.CPUQuota
		if quota == 0 {
			quota = c.Spec.Resources.NanoCPUs * defaultCPUPeriod / 1e9
		}
		n := nanoCPUs(quota, r.CPUPeriod)
		eu.NanoCPUs = &n
	}
	eu.PidsLimit = r.PidsLimit
	if u.RestartPolicy.Name != "" {
		eu.Restart = &engine.RestartPolicy{Name: string(u.RestartPolicy.Name), MaxRetries: u.RestartPolicy.MaximumRetryCount}
	}
	if err := b.e.UpdateContainer(ctx, c.ID, eu); err != nil {
		return container.UpdateResponse{}, err
	}
	return container.UpdateResponse{Warnings: []string{}}, nil
}

// refuseUpdate names the flags of u this engine cannot change.
func refuseUpdate(u dockerapi.UpdateConfig) error {
	r := u.Resources
	var flags []string
	for _, f := range []struct {
		flag string
		set  bool
	}{
		{"--cpu-shares", r.CPUShares != 0},
		{"--cpuset-cpus", r.CpusetCpus != ""},
		{"--cpuset-mems", r.CpusetMems != ""},
		{"--cpu-rt-period", r.CPURealtimePeriod != 0},
		{"--cpu-rt-runtime", r.CPURealtimeRuntime != 0},
		{"--memory-reservation", r.MemoryReservation != 0},
		{"--kernel-memory", u.KernelMemory != 0 || u.KernelMemoryTCP != 0},
		{"--memory-swappiness", r.MemorySwappiness != nil && *r.MemorySwappiness != -1},
		{"--oom-kill-disable", r.OomKillDisable != nil && *r.OomKillDisable},
		{"--blkio-weight", r.BlkioWeight != 0},
		{"--blkio-weight-device", len(r.BlkioWeightDevice) > 0},
		{"--device-read-bps", len(r.BlkioDeviceReadBps) > 0},
		{"--device-write-bps", len(r.BlkioDeviceWriteBps) > 0},
		{"--device-read-iops", len(r.BlkioDeviceReadIOps) > 0},
		{"--device-write-iops", len(r.BlkioDeviceWriteIOps) > 0},
		{"--device", len(r.Devices) > 0},
		{"--device-cgroup-rule", len(r.DeviceCgroupRules) > 0},
		{"--gpus", len(r.DeviceRequests) > 0},
		{"--ulimit", len(r.Ulimits) > 0},
		{"--cgroup-parent", r.CgroupParent != ""},
		{"--cpu-count", r.CPUCount != 0},
		{"--cpu-percent", r.CPUPercent != 0},
		{"--io-maxiops", r.IOMaximumIOps != 0},
		{"--io-maxbandwidth", r.IOMaximumBandwidth != 0},
	} {
		if f.set {
			flags = append(flags, f.flag)
		}
	}
	if len(flags) == 0 {
		return nil
	}
	return fmt.Errorf("%w: docker update %s: not supported by this engine, which can update -m/--memory (with --memory-swap equal to it or -1), --cpus, --cpu-quota, --cpu-period, --pids-limit and --restart",
		engine.ErrInvalid, strings.Join(flags, ", "))
}

// defaultCPUPeriod is the CFS period limits run with (Docker's, 100 ms).
const defaultCPUPeriod = 100000

// nanoCPUs is the share of CPUs a CFS quota and period (0: 100 ms) give;
// 0 (unlimited) for a quota of 0 or -1.
func nanoCPUs(quota, period int64) int64 {
	if quota <= 0 {
		return 0
	}
	if period == 0 {
		period = defaultCPUPeriod
	}
	return quota * 1e9 / period
}
