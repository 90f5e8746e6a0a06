package localbackend

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// engineConfig translates a Docker create request into the engine's
// container config. checkCreate has refused what the engine does not
// honour; the CLI's "default" network is none.
func engineConfig(cc dockerapi.ContainerCreateConfig) (engine.ContainerConfig, error) {
	cfg := cc.Config
	if cfg == nil {
		return engine.ContainerConfig{}, fmt.Errorf("%w: config cannot be empty in order to create a container", engine.ErrInvalid)
	}
	hc := cc.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	out := engine.ContainerConfig{
		Name:       strings.TrimPrefix(cc.Name, "/"),
		Image:      cfg.Image,
		Entrypoint: cfg.Entrypoint,
		Cmd:        cfg.Cmd,
		Env:        cfg.Env,
		WorkingDir: cfg.WorkingDir,
		User:       cfg.User,
		Hostname:   cfg.Hostname,
		Labels:     cfg.Labels,
		StopSignal: cfg.StopSignal,
		Network:    networkMode(hc.NetworkMode),
		OpenStdin:  cfg.OpenStdin,
		StdinOnce:  cfg.StdinOnce,
		Tty:        cfg.Tty,
		Restart:    engine.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaxRetries: hc.RestartPolicy.MaximumRetryCount},
		Resources:  resources(hc.Resources),
		AutoRemove: hc.AutoRemove,
	}
	if cfg.NetworkDisabled {
		out.Network = engine.NetworkNone
	}
	if err := setNames(&out, hc); err != nil {
		return engine.ContainerConfig{}, err
	}
	if out.Restart.Name == "" {
		out.Restart.Name = "no"
	}
	if cfg.StopTimeout != nil {
		out.StopGrace = time.Duration(*cfg.StopTimeout) * time.Second
	}
	out.Init = hc.Init != nil && *hc.Init
	out.OOMScoreAdj, out.LogOptions = hc.OomScoreAdj, hc.LogConfig.Config
	if err := limitsOf(hc, &out); err != nil {
		return engine.ContainerConfig{}, err
	}
	if cfg.Tty && hc.ConsoleSize[0] > 0 && hc.ConsoleSize[1] > 0 {
		out.ConsoleSize = [2]uint{hc.ConsoleSize[0], hc.ConsoleSize[1]}
	}
	if hc.Privileged || len(hc.CapAdd) > 0 {
		return engine.ContainerConfig{}, fmt.Errorf("%w: privileged containers and --cap-add are not supported by this engine", engine.ErrInvalid)
	}
	mounts, err := mountsOf(hc)
	if err != nil {
		return engine.ContainerConfig{}, err
	}
	// -v /PATH: the CLI sends the path in Config.Volumes.
	out.Mounts = engine.WithAnonymousVolumes(mounts, cfg.Volumes)
	return out, nil
}

// limitsOf reads --read-only, --shm-size, --ulimit and --cap-drop.
func limitsOf(hc *container.HostConfig, out *engine.ContainerConfig) error {
	if hc.ShmSize < 0 {
		return fmt.Errorf("%w: --shm-size (HostConfig.ShmSize): SHM size can not be less than 0", engine.ErrInvalid)
	}
	out.ReadonlyRootfs, out.ShmSize, out.CapDrop = hc.ReadonlyRootfs, hc.ShmSize, hc.CapDrop
	for _, u := range hc.Ulimits {
		if u == nil {
			continue
		}
		out.Ulimits = append(out.Ulimits, engine.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	return nil
}

func networkMode(m container.NetworkMode) string {
	if m == "host" {
		return engine.NetworkHost
	}
	return engine.NetworkNone
}

func resources(r container.Resources) engine.Resources {
	out := engine.Resources{MemoryBytes: r.Memory, NanoCPUs: r.NanoCPUs}
	if out.NanoCPUs == 0 {
		out.NanoCPUs = nanoCPUs(r.CPUQuota, r.CPUPeriod)
	}
	if r.PidsLimit != nil && *r.PidsLimit > 0 {
		out.PidsLimit = *r.PidsLimit
	}
	return out
}

// mountsOf reads -v binds ("SRC:DST[:ro]"), --mount and --tmpfs.
func mountsOf(hc *container.HostConfig) ([]engine.Mount, error) {
	var out []engine.Mount
	for _, b := range hc.Binds {
		m, err := parseBind(b)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, m := range hc.Mounts {
		em, err := mountOf(m)
		if err != nil {
			return nil, err
		}
		out = append(out, em)
	}
	targets := make([]string, 0, len(hc.Tmpfs))
	for t := range hc.Tmpfs {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		m := engine.Mount{Type: engine.MountTmpfs, Target: t}
		for _, opt := range strings.Split(hc.Tmpfs[t], ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "ro":
				m.ReadOnly = true
			case "size":
				n, err := units.RAMInBytes(v)
				if err != nil {
					return nil, fmt.Errorf("%w: tmpfs %s: size %q: %v", engine.ErrInvalid, t, v, err)
				}
				m.Size = n
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// mountOf reads one --mount: its type's options are honoured or refused
// by the --mount option that sets them; options of another type are
// refused, as dockerd does. Consistency is for Docker Desktop's file
// sharing and has no effect on Linux, in dockerd either.
func mountOf(m mount.Mount) (engine.Mount, error) {
	em := engine.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	refuse := func(opt, why string) (engine.Mount, error) {
		return engine.Mount{}, fmt.Errorf("%w: --mount %s is not supported: %s", engine.ErrInvalid, opt, why)
	}
	wrongType := func(opts string) (engine.Mount, error) {
		return engine.Mount{}, fmt.Errorf("%w: --mount %s: %s options are not allowed with type=%s", engine.ErrInvalid, m.Target, opts, m.Type)
	}
	if m.BindOptions != nil && m.Type != mount.TypeBind {
		return wrongType("bind")
	}
	if m.VolumeOptions != nil && m.Type != mount.TypeVolume {
		return wrongType("volume")
	}
	if m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs {
		return wrongType("tmpfs")
	}
	switch m.Consistency {
	case "", mount.ConsistencyDefault, mount.ConsistencyFull, mount.ConsistencyCached, mount.ConsistencyDelegated:
	default:
		return engine.Mount{}, fmt.Errorf("%w: --mount consistency=%s: want default, consistent, cached or delegated", engine.ErrInvalid, m.Consistency)
	}
	switch m.Type {
	case mount.TypeBind:
		em.Type = engine.MountBind
		if o := m.BindOptions; o != nil {
			switch {
			case o.Propagation != "" && o.Propagation != mount.PropagationRPrivate:
				return refuse("bind-propagation="+string(o.Propagation), "binds are private (rprivate)")
			case o.NonRecursive:
				return refuse("bind-recursive=disabled (bind-nonrecursive)", "binds include the mounts beneath their source")
			case o.ReadOnlyNonRecursive:
				return refuse("bind-recursive=writable", "a read-only bind is read-only with the mounts beneath it")
			}
			// ReadOnlyForceRecursive: read-only binds always are.
			em.CreateSource = o.CreateMountpoint
		}
	case mount.TypeVolume:
		em.Type = engine.MountVolume
		if o := m.VolumeOptions; o != nil {
			if d := o.DriverConfig; d != nil && ((d.Name != "" && d.Name != "local") || len(d.Options) > 0) {
				if len(d.Options) > 0 {
					return refuse("volume-opt", "the local driver takes no options here; create the volume first (docker volume create)")
				}
				return refuse("volume-driver="+d.Name, "the only volume driver is local")
			}
			em.SubPath, em.NoCopy, em.VolumeLabels = o.Subpath, o.NoCopy, o.Labels
		}
	case mount.TypeTmpfs:
		em.Type = engine.MountTmpfs
		if o := m.TmpfsOptions; o != nil {
			if len(o.Options) > 0 {
				return refuse("tmpfs-options", "give the size and mode with tmpfs-size and tmpfs-mode")
			}
			if o.SizeBytes < 0 {
				return engine.Mount{}, fmt.Errorf("%w: --mount tmpfs-size=%d: the size cannot be negative", engine.ErrInvalid, o.SizeBytes)
			}
			// The CLI sends tmpfs-mode's octal digits as they are
			// (1777, not os.ModeSticky), and dockerd mounts them so.
			if o.Mode > 0o7777 {
				return engine.Mount{}, fmt.Errorf("%w: --mount tmpfs-mode=%o: want octal permission bits, at most 7777", engine.ErrInvalid, uint32(o.Mode))
			}
			em.Size, em.Mode = o.SizeBytes, uint32(o.Mode)
		}
	default:
		return engine.Mount{}, fmt.Errorf("%w: mount type %q is not supported: use bind, volume or tmpfs", engine.ErrInvalid, m.Type)
	}
	return em, nil
}

// parseBind reads docker's -v syntax: an absolute source is a bind of a
// host path, anything else a named volume; a lone absolute path is an
// anonymous volume.
func parseBind(s string) (engine.Mount, error) {
	parts := strings.Split(s, ":")
	if len(parts) == 1 && filepath.IsAbs(s) {
		return engine.Mount{Type: engine.MountVolume, Target: s}, nil
	}
	if len(parts) < 2 || len(parts) > 3 {
		return engine.Mount{}, fmt.Errorf("%w: invalid volume specification %q: want SOURCE:TARGET[:ro]", engine.ErrInvalid, s)
	}
	m := engine.Mount{Source: parts[0], Target: parts[1], Type: engine.MountVolume}
	if filepath.IsAbs(m.Source) {
		m.Type = engine.MountBind
	}
	if len(parts) == 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			switch opt {
			case "ro":
				m.ReadOnly = true
			case "rw", "z", "Z", "":
			default:
				return engine.Mount{}, fmt.Errorf("%w: invalid volume specification %q: unknown option %q", engine.ErrInvalid, s, opt)
			}
		}
	}
	return m, nil
}

// stopGrace is a stop request's timeout, or -1 for the container's own.
func stopGrace(o dockerapi.StopOptions) time.Duration {
	if o.Timeout == nil {
		return -1
	}
	if *o.Timeout < 0 {
		return 24 * 365 * time.Hour // docker: -1 waits for ever
	}
	return time.Duration(*o.Timeout) * time.Second
}

func itoa(n int) string { return strconv.Itoa(n) }
