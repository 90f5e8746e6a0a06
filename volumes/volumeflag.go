package volumes

import (
	"fmt"
	"path"
	"strings"

	"github.com/reconciler/reconciler/engine"
)

// ParseVolumeFlag parses docker run's -v/--volume syntax, also used by
// HostConfig.Binds in the Engine API:
//
//	NAME:/ctr[:OPTS]       the named volume NAME
//	/host:/ctr[:OPTS]      a bind of the host path /host
//	/ctr                   an anonymous volume (Source "")
//
// OPTS is a comma-separated list of ro, rw, z, Z (SELinux relabelling,
// accepted and ignored: this engine does not use SELinux) and rprivate
// (the default propagation). nocopy and other propagation modes are
// refused rather than silently ignored. The bind source is not checked
// here; see CheckBind.
func ParseVolumeFlag(spec string) (engine.Mount, error) {
	bad := func(why string) (engine.Mount, error) {
		return engine.Mount{}, fmt.Errorf("%w: invalid volume specification: '%s': %s", ErrInvalid, spec, why)
	}
	parts := strings.Split(spec, ":")
	var m engine.Mount
	var opts string
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	case 2:
		m.Source, m.Target = parts[0], parts[1]
	case 3:
		m.Source, m.Target, opts = parts[0], parts[1], parts[2]
	default:
		return bad("want [SOURCE:]TARGET[:OPTIONS]")
	}
	if m.Target == "" || !path.IsAbs(m.Target) {
		return bad(fmt.Sprintf("mount path %q must be absolute", m.Target))
	}
	if path.Clean(m.Target) == "/" {
		return bad("destination can't be '/'")
	}
	switch {
	case len(parts) == 1:
		m.Type = engine.MountVolume
	case path.IsAbs(m.Source):
		m.Type = engine.MountBind
	default:
		if err := ValidateName(m.Source); err != nil {
			return engine.Mount{}, fmt.Errorf("invalid volume specification: '%s': %w", spec, err)
		}
		m.Type = engine.MountVolume
	}
	if opts == "" && len(parts) == 3 {
		return bad("empty options")
	}
	rw := 0
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "":
		case "ro":
			m.ReadOnly = true
			rw++
		case "rw":
			rw++
		case "z", "Z", "rprivate":
		case "nocopy":
			return bad("nocopy is not supported: volumes are always copied up on their first mount")
		default:
			return bad(fmt.Sprintf("unsupported option %q (use ro or rw)", o))
		}
	}
	if rw > 1 {
		return bad("ro and rw given more than once")
	}
	return m, nil
}
