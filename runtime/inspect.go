package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// UpperDir is the container's writable layer, for commit (the caller
// should stop the container first for a consistent diff).
func (r *Runtime) UpperDir(ref string) (string, error) {
	id, err := r.Resolve(ref)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.dir(id), shim.UpperDir), nil
}

// Inspect returns one container.
func (r *Runtime) Inspect(ref string) (*Container, error) {
	id, err := r.Resolve(ref)
	if err != nil {
		return nil, err
	}
	return r.inspect(id)
}

func (r *Runtime) inspect(id string) (*Container, error) {
	dir := r.dir(id)
	cfg, err := r.config(id)
	if err != nil {
		return nil, err
	}
	st, _ := r.reconcileShim(id)
	return &Container{ID: id, Name: cfg.Spec.Name, Created: cfg.Created, Spec: cfg.Spec, State: st, Dir: dir, LogPath: filepath.Join(dir, shim.LogFile)}, nil
}

// config reads a container's config once; later calls only check that
// it is still there (a container removed behind our back is gone).
func (r *Runtime) config(id string) (*shim.Config, error) {
	if c, ok := r.configs.Load(id); ok {
		if _, err := os.Stat(filepath.Join(r.dir(id), shim.ConfigFile)); err == nil {
			return c.(*shim.Config), nil
		}
		r.configs.Delete(id)
	}
	cfg, err := shim.ReadConfig(r.dir(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	r.configs.Store(id, cfg)
	return cfg, nil
}

// List returns every container, newest first.
func (r *Runtime) List() ([]*Container, error) { return r.Select(nil) }

// Select is List of the containers whose spec match accepts (nil: all),
// without reading the state of the others: how the engine finds a few
// containers by label among many.
func (r *Runtime) Select(match func(*Spec) bool) ([]*Container, error) {
	r.mu.Lock()
	ids := make([]string, 0, len(r.names))
	for _, id := range r.names {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	var out []*Container
	for _, id := range ids {
		if match != nil {
			cfg, err := r.config(id)
			if errors.Is(err, ErrNotFound) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, err
			}
			if !match(&cfg.Spec) {
				continue
			}
		}
		c, err := r.inspect(id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// restartLost says whether a container whose shim was lost is started
// again: by its restart policy, unless a user stopped it.
func restartLost(cfg *shim.Config, st State) bool {
	return st.ShimLost && !st.ManualStop && cfg.Spec.RestartPolicy.ShouldRestart(st.ExitCode, 0)
}

// restartAfterReboot is the one difference between the always and
// unless-stopped policies, Docker's "restarted when the daemon restarts":
// here containers outlive daemon restarts, so a host reboot is when a
// stopped always-container comes back. Only containers that ran before.
func restartAfterReboot(cfg *shim.Config, st State, boot string) bool {
	return cfg.Spec.RestartPolicy.Name == RestartAlways && !st.Running() && st.StartCount > 0 &&
		st.BootID != "" && boot != "" && st.BootID != boot
}

// reconcileShim reads the state and, if it says running but its shim is
// gone (killed, or the host rebooted), records the loss: exited with
// code 255 and an error. lost reports that case.
func (r *Runtime) reconcileShim(id string) (st State, lost bool) {
	dir := r.dir(id)
	st, err := r.readState(id)
	if err != nil {
		return State{Status: StateDead, Error: "state unreadable: " + err.Error()}, false
	}
	if !st.Running() || shim.Alive(st.ShimPid, st.ShimStartTime) {
		return st, false
	}
	// Re-read: the shim may have written its final state and exited
	// between the read and the check.
	if st2, err := r.readState(id); err == nil && (!st2.Running() || st2.ShimStartTime != st.ShimStartTime) {
		return st2, false
	}
	// Whatever the shim left running (its container) goes with it, so a
	// restart never runs the container twice.
	if cfg, err := shim.ReadConfig(dir); err == nil {
		shim.Cleanup(dir, cfg)
	}
	st.Status = StateExited
	st.Pid = 0
	st.ExitCode = 255
	st.FinishedAt = time.Now().UTC()
	st.ExitCount++
	st.Error = "the container's shim exited unexpectedly"
	st.ShimPid, st.ShimStartTime = 0, 0
	st.ShimLost = true
	if err := shim.WriteState(dir, st); err != nil {
		st.Status = StateDead
	}
	return st, true
}
