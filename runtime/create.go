package runtime

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconciler/reconciler/internal/plainfile"
	"github.com/reconciler/reconciler/internal/procopts"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// Create records a container; it does not start it. The name must be
// unique (ErrConflict names the container holding it).
func (r *Runtime) Create(ctx context.Context, spec Spec) (string, error) {
	if err := r.validate(&spec); err != nil {
		return "", err
	}
	r.mu.Lock()
	if other, ok := r.names[spec.Name]; ok {
		r.mu.Unlock()
		return "", nameInUse(spec.Name, other)
	}
	if _, err := os.Stat(r.dir(spec.ID)); err == nil {
		r.mu.Unlock()
		return "", fmt.Errorf("%w: container ID %s already exists", ErrConflict, spec.ID)
	}
	r.names[spec.Name] = spec.ID
	r.mu.Unlock()
	held, err := r.create(spec)
	if err != nil {
		os.RemoveAll(r.dir(spec.ID))
		r.mu.Lock()
		delete(r.names, spec.Name)
		r.mu.Unlock()
		return "", err
	}
	if held != nil {
		r.keepHeld(spec.ID, held)
	}
	r.watch.add(spec.ID)
	r.emit(spec.ID, "create", nil)
	return spec.ID, nil
}

// create makes the container's folder and config, and returns the shim
// holding its start, if one could (see heldStart).
func (r *Runtime) create(spec Spec) (*spareShim, error) {
	dir := r.dir(spec.ID)
	if !r.skel.take(dir) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create container: %w", err)
		}
		for _, name := range skeletonFolders {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				return nil, fmt.Errorf("create container: %w", err)
			}
		}
	}
	// config.json last: a directory without it is a crashed create. A
	// shim sets the container up meanwhile, from this copy.
	cfg := shim.Config{Spec: spec, Created: time.Now().UTC(), Launcher: r.launcher, EtcFiles: r.launcher == ""}
	held := r.holdStart(dir, &cfg)
	fail := func(err error) (*spareShim, error) {
		if held != nil {
			r.releaseHeld(held, dir, spec.ID)
		}
		return nil, fmt.Errorf("create container: %w", err)
	}
	// The log exists from the start (a skeleton has it already), so an
	// attach before the first start has a file to follow.
	if f, err := plainfile.Open(filepath.Join(dir, shim.LogFile), os.O_CREATE|os.O_WRONLY, 0o640); err != nil {
		return fail(err)
	} else {
		f.Close()
	}
	if err := shim.WriteNewConfig(dir, cfg); err != nil {
		return fail(err)
	}
	return held, nil
}

func (r *Runtime) validate(spec *Spec) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if spec.ID == "" {
		spec.ID = newID()
	} else if !validID(spec.ID) {
		return bad("container ID %q: must be 64 lowercase hex digits", spec.ID)
	}
	spec.Name = strings.TrimPrefix(spec.Name, "/")
	if spec.Name == "" {
		spec.Name = generateName(spec.ID)
	} else if !nameRE.MatchString(spec.Name) {
		return bad("container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", spec.Name)
	}
	if len(spec.Args) == 0 {
		return bad("container %s: no command given: set Args (the image's entrypoint and cmd)", spec.Name)
	}
	if spec.Hostname == "" {
		spec.Hostname = spec.ID[:12]
	}
	if spec.RestartPolicy.Name == "" {
		spec.RestartPolicy.Name = RestartNo
	}
	if err := spec.RestartPolicy.Validate(); err != nil {
		return bad("container %s: %v", spec.Name, err)
	}
	if spec.Volatile && spec.RestartPolicy.Name != RestartNo {
		return bad("container %s: a volatile container (--rm) runs once: it cannot have restart policy %q", spec.Name, spec.RestartPolicy.Name)
	}
	if spec.StopSignal != "" {
		if _, err := shim.ParseSignal(spec.StopSignal); err != nil {
			return bad("container %s: stop signal: %v", spec.Name, err)
		}
	}
	if spec.StopGrace == 0 {
		spec.StopGrace = 10 * time.Second
	}
	// Docker's floor; the container's init is charged to the group before
	// the program runs, and a lower limit could not even hold it.
	if m := spec.Resources.MemoryBytes; m != 0 && m < minMemory {
		return bad("container %s: Minimum memory limit allowed is 6MB", spec.Name)
	}
	switch spec.Network {
	case "":
		spec.Network = "none"
	case "none", "host":
	default:
		return bad("container %s: network %q: must be none or host", spec.Name, spec.Network)
	}
	for i, m := range spec.Mounts {
		if !filepath.IsAbs(m.Target) {
			return bad("container %s: mounts[%d]: target %q must be absolute", spec.Name, i, m.Target)
		}
		switch m.Type {
		case MountBind:
			if !filepath.IsAbs(m.Source) {
				return bad("container %s: mounts[%d]: bind source %q must be an absolute host path", spec.Name, i, m.Source)
			}
		case MountTmpfs:
		default:
			return bad("container %s: mounts[%d]: type %q: must be bind or tmpfs", spec.Name, i, m.Type)
		}
	}
	for i, l := range spec.LowerDirs {
		if !filepath.IsAbs(l) {
			return bad("container %s: lowerDirs[%d]: %q must be absolute", spec.Name, i, l)
		}
	}
	if spec.ShmSize < 0 {
		return bad("container %s: --shm-size: SHM size can not be less than 0", spec.Name)
	}
	for _, u := range spec.Ulimits {
		if err := sandbox.CheckUlimit(sandbox.Ulimit(u)); err != nil {
			return bad("container %s: %v", spec.Name, err)
		}
	}
	if len(spec.CapDrop) > 0 {
		drop := make([]string, len(spec.CapDrop)) // Docker's spelling, not the caller's slice
		for i, c := range spec.CapDrop {
			n, err := sandbox.NormalizeCap(c)
			if err != nil {
				return bad("container %s: %v", spec.Name, err)
			}
			drop[i] = n
		}
		spec.CapDrop = drop
	}
	if spec.Init != "" && !filepath.IsAbs(spec.Init) {
		return bad("container %s: init %q must be an absolute host path", spec.Name, spec.Init)
	}
	if err := procopts.CheckOOMScoreAdj(spec.OOMScoreAdj); err != nil {
		return bad("container %s: %v", spec.Name, err)
	}
	if spec.LogMaxSize < 0 || spec.LogMaxFiles < 0 {
		return bad("container %s: log max size and max files cannot be negative", spec.Name)
	}
	if spec.LogMaxSize == 0 {
		spec.LogMaxSize = r.opts.LogMaxSize
	}
	if spec.LogMaxFiles == 0 {
		spec.LogMaxFiles = r.opts.LogMaxFiles
	}
	return nil
}

// generateName makes a Docker-like two-word name, stable for an ID.
func generateName(id string) string {
	adjectives := []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "sharp", "tender", "vivid"}
	nouns := []string{"babbage", "curie", "darwin", "euler", "feynman", "galois", "hopper", "knuth", "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak"}
	b, _ := hex.DecodeString(id[:8])
	return fmt.Sprintf("%s_%s_%x", adjectives[b[0]%16], nouns[b[1]%16], b[2:4])
}
