package localbackend

import (
	"context"
	"slices"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/volumes"
)

// Info implements dockerapi.SystemBackend: counts and what this engine
// is made of; the server adds the machine's facts.
func (b *Backend) Info(ctx context.Context) (system.Info, error) {
	cs, err := b.e.Runtime().List()
	if err != nil {
		return system.Info{}, err
	}
	imgs, err := b.store().List()
	if err != nil {
		return system.Info{}, err
	}
	i := system.Info{
		Containers:         len(cs),
		Images:             len(imgs),
		Driver:             "overlay2",
		Plugins:            system.PluginsInfo{Volume: []string{volumes.DriverLocal}, Network: []string{"host", "null"}, Log: []string{"json-file"}},
		LoggingDriver:      "json-file", // the shims write json-file's layout
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion(),
		NEventsListener:    b.bus.Subscribers(),
		DockerRootDir:      b.e.Root(),
		DefaultRuntime:     "reconciler",
		LiveRestoreEnabled: true, // containers run under shims and are adopted after a restart
		MemoryLimit:        true,
		CPUCfsPeriod:       true,
		CPUCfsQuota:        true,
		PidsLimit:          true,
	}
	for _, c := range cs {
		if c.State.Running() {
			i.ContainersRunning++
		} else {
			i.ContainersStopped++
		}
	}
	return i, nil
}

// cgroupVersion is "2" on a unified hierarchy, "1" otherwise (hybrid too).
func cgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

// DiskUsage implements dockerapi.SystemBackend: images with the number of
// containers using them and the bytes they share with other images,
// every container, volumes with their size and users, and the layers'
// size on disk (each layer once).
func (b *Backend) DiskUsage(ctx context.Context) (dockerapi.DiskUsage, error) {
	var du dockerapi.DiskUsage
	imgs, err := b.store().List()
	if err != nil {
		return du, err
	}
	cs, err := b.e.Runtime().List()
	if err != nil {
		return du, err
	}
	users := map[string]int64{}
	for _, c := range cs {
		users[c.Spec.ImageID]++
	}
	du.Images = imageUsage(imgs, users)
	if du.Containers, err = b.ContainerList(ctx, dockerapi.ContainerListOptions{All: true, Size: true}); err != nil {
		return du, err
	}
	vs, err := b.vm().List(volumes.Filter{})
	if err != nil {
		return du, err
	}
	du.Volumes = []volume.Volume{}
	for _, v := range vs {
		size, err := b.vm().Usage(v.Name)
		if err != nil {
			size = -1 // removed meanwhile, or unreadable: Docker's "not available"
		}
		j := volumeJSON(v)
		j.UsageData = &volume.UsageData{Size: size, RefCount: int64(len(v.Users))}
		du.Volumes = append(du.Volumes, j)
	}
	// In the unit image sizes use, so the CLI's reclaimable figure adds up.
	seen := map[digest.Digest]bool{}
	for _, img := range imgs {
		for _, l := range img.Layers {
			if !seen[l.ChainID] {
				seen[l.ChainID] = true
				du.LayersSize += layerSize(l)
			}
		}
	}
	return du, nil
}

// imageUsage lists imgs as `docker images` does (newest first, without
// intermediate images) with real Containers counts and SharedSize: the
// size of their layers that other listed images use too.
func imageUsage(imgs []*layerstore.Image, users map[string]int64) []image.Summary {
	hidden := parents(imgs)
	var listed []*layerstore.Image
	refs := map[digest.Digest]int{}
	for _, img := range slices.Backward(imgs) {
		if len(img.RepoTags) == 0 && hidden[img.ID] {
			continue
		}
		listed = append(listed, img)
		for _, l := range img.Layers {
			refs[l.ChainID]++
		}
	}
	out := []image.Summary{}
	for _, img := range listed {
		s := imageSummary(img)
		s.Containers = users[img.ID.String()]
		s.SharedSize = 0
		for _, l := range img.Layers {
			if refs[l.ChainID] > 1 {
				s.SharedSize += layerSize(l)
			}
		}
		out = append(out, s)
	}
	return out
}

// SubscribeEvents implements dockerapi.SystemBackend from the backend's
// bus, which carries the engine's events and the API's own.
func (b *Backend) SubscribeEvents(since time.Time) ([]events.Message, <-chan events.Message, func()) {
	return b.bus.SubscribeEvents(since)
}
