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
	out.Mounts = mounts
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
		em := engine.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		switch m.Type {
		case mount.TypeBind:
			em.Type = engine.MountBind
		case mount.TypeVolume:
			em.Type = engine.MountVolume
			if m.VolumeOptions != nil {
				em.SubPath = m.VolumeOptions.Subpath
			}
		case mount.TypeTmpfs:
			em.Type = engine.MountTmpfs
			if m.TmpfsOptions != nil {
				em.Size = m.TmpfsOptions.SizeBytes
			}
		default:
			return nil, fmt.Errorf("%w: mount type %q is not supported: use bind, volume or tmpfs", engine.ErrInvalid, m.Type)
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

// parseBind reads docker's -v syntax: an absolute source is a bind of a
// host path, anything else a named volume.
func parseBind(s string) (engine.Mount, error) {
	parts := strings.Split(s, ":")
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
