package reconcile

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/procopts"
	"github.com/reconciler/reconciler/spec"
)

// DefaultStopGrace is how long a container gets between its stop signal
// and SIGKILL when its spec says nothing (Docker's default).
const DefaultStopGrace = 10 * time.Second

// restartPolicies maps Kubernetes' words to Docker's.
var restartPolicies = map[string]string{
	"":                    "always",
	spec.RestartAlways:    "always",
	spec.RestartOnFailure: "on-failure",
	spec.RestartNever:     "no",
}

// stopGrace is a container's grace period, defaulted.
func stopGrace(c *spec.Container) time.Duration {
	if c.Spec.StopGracePeriod != nil {
		return c.Spec.StopGracePeriod.Duration
	}
	return DefaultStopGrace
}

// restartPolicy is a container's policy in Kubernetes' words, defaulted.
func restartPolicy(c *spec.Container) string {
	if c.Spec.RestartPolicy == "" {
		return spec.RestartAlways
	}
	return c.Spec.RestartPolicy
}

// ContainerConfig maps a Container object onto what an engine creates.
// Like Kubernetes, command replaces the image's entrypoint and args its
// cmd. imageID is the ID the image reference resolves to now, recorded in
// a label so a rebuilt image is noticed.
func ContainerConfig(o spec.Object, imageID string) (engine.ContainerConfig, error) {
	c := o.Container
	if c == nil {
		return engine.ContainerConfig{}, fmt.Errorf("%s: not a container", o.Key)
	}
	s := c.Spec
	rp, ok := restartPolicies[s.RestartPolicy]
	if !ok {
		return engine.ContainerConfig{}, fmt.Errorf("spec.restartPolicy: %q is not Always, OnFailure or Never", s.RestartPolicy)
	}
	cfg := engine.ContainerConfig{
		Name:       c.Metadata.Name,
		Image:      s.Image,
		Entrypoint: s.Command,
		Cmd:        s.Args,
		WorkingDir: s.WorkingDir,
		User:       s.User,
		Hostname:   s.Hostname,
		Restart:    engine.RestartPolicy{Name: rp},
		StopSignal: s.StopSignal,
		StopGrace:  stopGrace(c),
		Network:    s.Network,
	}
	for _, e := range s.Env {
		cfg.Env = append(cfg.Env, e.Name+"="+e.Value)
	}
	for _, v := range s.Volumes {
		cfg.Mounts = append(cfg.Mounts, engine.Mount{Type: engine.MountVolume, Source: v.Name, Target: v.MountPath, ReadOnly: v.ReadOnly, SubPath: v.SubPath})
	}
	for _, b := range s.Binds {
		cfg.Mounts = append(cfg.Mounts, engine.Mount{Type: engine.MountBind, Source: resolve(o.Source.File, b.HostPath), Target: b.MountPath, ReadOnly: b.ReadOnly})
	}
	for i, t := range s.Tmpfs {
		m := engine.Mount{Type: engine.MountTmpfs, Target: t.MountPath}
		if t.SizeLimit != "" {
			n, err := spec.ParseQuantity(t.SizeLimit)
			if err != nil {
				return engine.ContainerConfig{}, fmt.Errorf("spec.tmpfs[%d].sizeLimit: %w", i, err)
			}
			m.Size = n
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	var err error
	if s.Resources.Memory != "" {
		if cfg.Resources.MemoryBytes, err = spec.ParseQuantity(s.Resources.Memory); err != nil {
			return engine.ContainerConfig{}, fmt.Errorf("spec.resources.memory: %w", err)
		}
	}
	if s.Resources.CPUs != "" {
		if cfg.Resources.NanoCPUs, err = spec.ParseCPUs(s.Resources.CPUs); err != nil {
			return engine.ContainerConfig{}, fmt.Errorf("spec.resources.cpus: %w", err)
		}
	}
	cfg.Resources.PidsLimit = s.Resources.Pids
	if err := setOptions(&cfg, &s); err != nil {
		return engine.ContainerConfig{}, err
	}
	labels := make(map[string]string, len(c.Metadata.Labels)+len(s.Labels))
	for k, v := range c.Metadata.Labels {
		labels[k] = v
	}
	for k, v := range s.Labels {
		labels[k] = v
	}
	cfg.Labels = ownLabels(o, labels, c)
	cfg.Labels[engine.LabelImageID] = imageID
	cfg.Labels[LabelStopGrace] = cfg.StopGrace.String()
	return cfg, nil
}

// setOptions maps readOnlyRootFilesystem, capDrop, ulimits, shmSize,
// hostAliases, dnsConfig and (setProcess) init, oomScoreAdj and logging onto docker's --read-only, --cap-drop,
// --ulimit, --shm-size, --add-host NAME:IP and --dns, --dns-search,
// --dns-option NAME[:VALUE].
func setOptions(cfg *engine.ContainerConfig, s *spec.ContainerSpec) error {
	cfg.ReadonlyRootfs = s.ReadOnlyRootFilesystem
	cfg.CapDrop = s.CapDrop
	for i, u := range s.Ulimits {
		if u.Soft == nil || u.Hard == nil {
			return fmt.Errorf("spec.ulimits[%d]: soft and hard are required", i)
		}
		cfg.Ulimits = append(cfg.Ulimits, engine.Ulimit{Name: u.Name, Soft: *u.Soft, Hard: *u.Hard})
	}
	if s.ShmSize != "" {
		n, err := spec.ParseQuantity(s.ShmSize)
		if err != nil {
			return fmt.Errorf("spec.shmSize: %w", err)
		}
		cfg.ShmSize = n
	}
	for _, a := range s.HostAliases {
		for _, h := range a.Hostnames {
			cfg.ExtraHosts = append(cfg.ExtraHosts, h+":"+a.IP)
		}
	}
	if d := s.DNSConfig; d != nil {
		cfg.DNS, cfg.DNSSearch = d.Nameservers, d.Searches
		for _, o := range d.Options {
			opt := o.Name
			if o.Value != "" {
				opt += ":" + o.Value
			}
			cfg.DNSOptions = append(cfg.DNSOptions, opt)
		}
	}
	return setProcess(cfg, s)
}

// setProcess maps init, oomScoreAdj and logging onto docker's --init,
// --oom-score-adj and --log-opt max-size (in bytes) and max-file.
func setProcess(cfg *engine.ContainerConfig, s *spec.ContainerSpec) error {
	cfg.Init, cfg.OOMScoreAdj = s.Init, s.OOMScoreAdj
	if l := s.Logging; l != nil {
		var size int64
		if l.MaxSize != "" {
			n, err := spec.ParseQuantity(l.MaxSize)
			if err != nil {
				return fmt.Errorf("spec.logging.maxSize: %w", err)
			}
			size = n
		}
		files := 0
		if l.MaxFiles != nil {
			files = *l.MaxFiles
		}
		cfg.LogOptions = procopts.LogOptions(size, files)
	}
	return nil
}

// ImageSource maps an Image object onto what an engine ensures. Relative
// build contexts and import paths are resolved against the manifest's
// folder.
func ImageSource(o spec.Object) (engine.ImageSource, error) {
	im := o.Image
	if im == nil {
		return engine.ImageSource{}, fmt.Errorf("%s: not an image", o.Key)
	}
	s := im.Spec
	src := engine.ImageSource{Tag: s.Tag, Labels: ownLabels(o, im.Metadata.Labels, im)}
	switch {
	case s.Build != nil:
		src.Build = &engine.BuildSource{
			Context:    resolve(o.Source.File, s.Build.Context),
			Dockerfile: s.Build.Dockerfile,
			Args:       s.Build.Args,
			Target:     s.Build.Target,
		}
	case s.Import != nil:
		src.Import = &engine.ImportSource{Path: resolve(o.Source.File, s.Import.Path)}
	case s.Pull != nil:
		src.Pull = &engine.PullSource{Ref: s.Pull.Ref}
	default:
		return engine.ImageSource{}, fmt.Errorf("spec: image %q declares none of build, import, pull", s.Tag)
	}
	return src, nil
}

// VolumeConfig maps a Volume object onto what an engine creates; its
// reclaim policy travels in a label.
func VolumeConfig(o spec.Object) (engine.VolumeConfig, error) {
	v := o.Volume
	if v == nil {
		return engine.VolumeConfig{}, fmt.Errorf("%s: not a volume", o.Key)
	}
	labels := make(map[string]string, len(v.Metadata.Labels)+len(v.Spec.Labels))
	for k, x := range v.Metadata.Labels {
		labels[k] = x
	}
	for k, x := range v.Spec.Labels {
		labels[k] = x
	}
	l := ownLabels(o, labels, v)
	l[LabelReclaim] = reclaimPolicy(v)
	return engine.VolumeConfig{Name: v.Metadata.Name, Driver: v.Spec.Driver, Labels: l}, nil
}

func reclaimPolicy(v *spec.Volume) string {
	if v.Spec.ReclaimPolicy == "" {
		return spec.ReclaimRetain
	}
	return v.Spec.ReclaimPolicy
}

// resolve makes p absolute against the folder of the manifest file; paths
// from stdin resolve against the working directory.
func resolve(manifest, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if manifest == "" || manifest == "-" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return abs
	}
	dir := filepath.Dir(manifest)
	if !filepath.IsAbs(dir) {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	return filepath.Join(dir, p)
}
