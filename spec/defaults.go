package spec

import (
	"net/netip"
	"path"
	"time"

	"github.com/reconciler/reconciler/internal/limitnames"
)

// Defaults the reference (README) documents, applied before validation and
// hashing so a default written out explicitly changes nothing.
const (
	DefaultStopGracePeriod = 10 * time.Second
	DefaultHostTimeout     = 30 * time.Second
	DefaultDockerfile      = "Dockerfile"
	DefaultVolumeDriver    = "local"
)

// Defaulting also rewrites values into one canonical spelling when they
// parse ("65536Ki" -> "64Mi", "0.50" -> "0.5", "term" -> "SIGTERM",
// "/data/" -> "/data", "web" -> "web:latest"), so equal meanings hash
// equally. Values that do not parse are left for validation to report.

func defaultContainer(c *ContainerSpec) {
	c.Host = orDefault(c.Host, LocalHost)
	c.Image = NormalizeRef(c.Image)
	c.WorkingDir = cleanAbs(c.WorkingDir)
	c.RestartPolicy = orDefault(c.RestartPolicy, RestartAlways)
	c.Network = orDefault(c.Network, NetworkNone)
	if c.StopGracePeriod == nil {
		c.StopGracePeriod = &Duration{DefaultStopGracePeriod}
	}
	if name, _, err := ParseSignal(c.StopSignal); c.StopSignal != "" && err == nil {
		c.StopSignal = name
	}
	if n, err := ParseQuantity(c.Resources.Memory); err == nil {
		c.Resources.Memory = FormatQuantity(n)
	}
	if n, err := ParseCPUs(c.Resources.CPUs); err == nil {
		c.Resources.CPUs = FormatCPUs(n)
	}
	for i := range c.Volumes {
		c.Volumes[i].MountPath = cleanAbs(c.Volumes[i].MountPath)
		if c.Volumes[i].SubPath != "" && !path.IsAbs(c.Volumes[i].SubPath) {
			c.Volumes[i].SubPath = path.Clean(c.Volumes[i].SubPath)
		}
	}
	for i := range c.Binds {
		c.Binds[i].MountPath = cleanAbs(c.Binds[i].MountPath)
		c.Binds[i].HostPath = cleanAbs(c.Binds[i].HostPath)
	}
	if n, err := ParseQuantity(c.ShmSize); err == nil {
		c.ShmSize = FormatQuantity(n)
	}
	for i, name := range c.CapDrop {
		if canonical, _, ok := limitnames.Capability(name); ok {
			c.CapDrop[i] = canonical
		}
	}
	for i := range c.HostAliases {
		if addr, err := netip.ParseAddr(c.HostAliases[i].IP); err == nil {
			c.HostAliases[i].IP = addr.String()
		}
	}
	if d := c.DNSConfig; d != nil {
		for i, ns := range d.Nameservers {
			if addr, err := netip.ParseAddr(ns); err == nil {
				d.Nameservers[i] = addr.String()
			}
		}
		if len(d.Nameservers)+len(d.Searches)+len(d.Options) == 0 {
			c.DNSConfig = nil // dnsConfig: {} means what leaving it out does
		}
	}
	if l := c.Logging; l != nil {
		if n, err := ParseQuantity(l.MaxSize); err == nil {
			l.MaxSize = FormatQuantity(n)
		}
		if l.MaxSize != "" && l.MaxFiles != nil && *l.MaxFiles == 1 {
			l.MaxFiles = nil // one file is what maxSize alone keeps
		}
		if l.MaxSize == "" && l.MaxFiles == nil {
			c.Logging = nil // logging: {} means what leaving it out does
		}
	}
	for i := range c.Tmpfs {
		c.Tmpfs[i].MountPath = cleanAbs(c.Tmpfs[i].MountPath)
		if n, err := ParseQuantity(c.Tmpfs[i].SizeLimit); err == nil {
			c.Tmpfs[i].SizeLimit = FormatQuantity(n)
		}
	}
}

func defaultImage(s *ImageSpec) {
	s.Host = orDefault(s.Host, LocalHost)
	s.Tag = NormalizeRef(s.Tag)
	if s.Build != nil {
		s.Build.Dockerfile = orDefault(s.Build.Dockerfile, DefaultDockerfile)
	}
}

func defaultVolume(s *VolumeSpec) {
	s.Host = orDefault(s.Host, LocalHost)
	s.Driver = orDefault(s.Driver, DefaultVolumeDriver)
	s.ReclaimPolicy = orDefault(s.ReclaimPolicy, ReclaimRetain)
}

func defaultHost(s *HostSpec) {
	if s.Timeout == nil {
		s.Timeout = &Duration{DefaultHostTimeout}
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// cleanAbs cleans absolute paths ("/data/" -> "/data"); anything else is
// returned as is for validation to judge.
func cleanAbs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return p
}
