// Package runtime runs containers: each one supervised by a shim (this
// binary re-executed as "reconciler-shim", in its own session) that starts
// it through runtime/sandbox, owns its stdout and stderr log, records every
// transition in an atomically written state.json and applies the restart
// policy, so containers live on, and restart, while the daemon is down.
//
// A Runtime is a view of a state root (STATE/containers): a new one on the
// same root finds every container again and adopts the running ones, never
// starting one twice. The runtime talks to a shim over DIR/shim.sock and
// identifies it by PID plus /proc start time, so a recycled PID is never
// mistaken for a live shim.
//
// Shims are children of the daemon (in their own sessions) and share its
// cgroup: a service manager must stop only the daemon's main process
// (systemd: KillMode=process, as containerd.service does), or the shims go
// with it; the next Runtime would then record the loss, clean up and
// restart by policy.
//
// Layout of ROOT/<id>/: config.json (the Spec, written at create and
// rewritten only by Rename and Update), state.json,
// log/container.log (+ .1, .2 rotated), upper/ and work/ (the container
// layer), shim.sock, shim.log. ROOT/.mnt is where every container's root
// is mounted (inside its own mount namespace); ROOT/.free holds the
// folders of removed containers, emptied for reuse (skeletons.go).
package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/internal/procopts"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// Errors, testable with errors.Is; returned wrapped with detail.
var (
	ErrNotFound   = errors.New("no such container")
	ErrConflict   = errors.New("conflict")
	ErrInvalid    = errors.New("invalid argument")
	ErrNotRunning = errors.New("container is not running")
)

// Options tune a Runtime; the zero value is fine.
type Options struct {
	// LogMaxSize and LogMaxFiles bound each container's log (defaults
	// 10 MiB x 3 files); a Spec may override them.
	LogMaxSize  int64
	LogMaxFiles int
	// StartTimeout bounds how long Start waits for the shim to report
	// (default 30 s).
	StartTimeout time.Duration
	// ShortLived is for a process that ends soon, the CLI working on a
	// root without a daemon: no shim is kept started ahead of need (it
	// would only be discarded at exit), and the state and log files of the
	// containers it acts on are polled, not watched with inotify (a
	// process that used inotify waits on its way out for an SRCU grace
	// period, up to 15 ms here); the others are rescanned each second.
	ShortLived bool
	// SpareAtOpen starts one spare shim at once, ShortLived or not: for
	// a short-lived process about to start a container (`reconciler run`
	// without a daemon), whose start then finds the shim and its init
	// booting beside the create instead of after it.
	SpareAtOpen bool
}

// Runtime manages the containers under one state root. It is safe for
// concurrent use. Whoever opens a root must hold the root's lock (the
// engine does): two Runtimes writing one root would race on names.
type Runtime struct {
	root string
	opts Options

	mu    sync.Mutex
	names map[string]string  // name -> id
	locks map[string]*idLock // held or waited for; see lock
	// configs caches each container's config.json, written at create and
	// changed only by Rename and Update (which replace the entry): id ->
	// *shim.Config.
	configs sync.Map
	// finalExit keeps, for a minute, the last exit code of each removed
	// container: id -> int, for waiters that find it gone.
	finalExit sync.Map

	// launcher is written to every new config (tests: "host").
	launcher string

	events  *broker
	metrics *metrics
	watch   *watcher

	skel *skeletons // container folders to reuse (see skeletons.go)

	attached readers // Attach streams still reading, by container
	viewed   readers // views of container roots still open (cp, export)

	spareMu sync.Mutex
	spare   *spareShim // a shim started ahead of need (see spare.go)
	closed  bool
}

// New opens (or creates) the state root and adopts its containers: running
// ones whose shim is alive are left alone; ones whose shim died (a host
// reboot, a killed shim) are recorded as exited with an error, and started
// again if their restart policy says so and no user stopped them. After a
// host reboot, containers with policy always are started even if a user
// had stopped them (Docker's rule for a daemon restart).
func New(root string, opts Options) (*Runtime, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("container state root: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, shim.MountPoint), 0o700); err != nil {
		return nil, fmt.Errorf("container state root: %w", err)
	}
	skel, err := openSkeletons(root)
	if err != nil {
		return nil, fmt.Errorf("container state root: %w", err)
	}
	r := &Runtime{root: root, opts: opts, names: map[string]string{}, locks: map[string]*idLock{}, skel: skel}
	r.events = newBroker()
	r.metrics = newMetrics(r)
	sandbox.RemoveStaleSpareGroups("")
	helperOnce.Do(useHelper)
	if opts.SpareAtOpen {
		go r.refillSpare()
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		r.dropSpare()
		return nil, fmt.Errorf("container state root: %w", err)
	}
	var restart []string
	boot := shim.BootID()
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), onceDirPrefix) {
			if unmountUnder(filepath.Join(root, e.Name())) == nil {
				os.RemoveAll(filepath.Join(root, e.Name()))
			}
			continue
		}
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		id := e.Name()
		cfg, err := shim.ReadConfig(r.dir(id))
		if err != nil {
			// A create that crashed before its config landed: nothing
			// references it.
			if errors.Is(err, os.ErrNotExist) && unmountUnder(r.dir(id)) == nil {
				os.RemoveAll(r.dir(id))
			}
			continue
		}
		r.names[cfg.Spec.Name] = id
		if st, _ := r.reconcileShim(id); restartLost(cfg, st) || restartAfterReboot(cfg, st, boot) {
			restart = append(restart, id)
		}
	}
	r.watch, err = newWatcher(r)
	if err != nil {
		r.dropSpare()
		return nil, err
	}
	for _, id := range restart {
		if err := r.Start(context.Background(), id); err != nil {
			fmt.Fprintf(os.Stderr, "restart container %s after its shim was lost: %v\n", id, err)
		}
	}
	return r, nil
}

// Close stops watching for events. Containers are not touched: they keep
// running under their shims, for the next Runtime to adopt.
func (r *Runtime) Close() error {
	r.dropSpare()
	r.watch.close()
	r.events.close()
	r.skel.wait()
	return nil
}

// Root is the state root.
func (r *Runtime) Root() string { return r.root }

func (r *Runtime) dir(id string) string { return filepath.Join(r.root, id) }

// minMemory is the smallest memory limit Docker accepts.
const minMemory = 6 << 20

var idRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func validID(id string) bool { return idRE.MatchString(id) }

// Docker's rule for container names.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// idLock is one container's lifecycle lock, with the number of callers
// holding or waiting for it: the last one out deletes it, so a daemon that
// runs containers by the million keeps no lock per container gone.
type idLock struct {
	sync.Mutex
	users int
}

// lock serializes lifecycle operations on one container; call the
// returned func to unlock.
func (r *Runtime) lock(id string) func() {
	r.mu.Lock()
	l := r.locks[id]
	if l == nil {
		l = &idLock{}
		r.locks[id] = l
	}
	l.users++
	r.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		r.mu.Lock()
		if l.users--; l.users == 0 {
			delete(r.locks, id)
		}
		r.mu.Unlock()
	}
}

// lockInspect resolves ref, locks the container (see lock) and reads its
// state under the lock.
func (r *Runtime) lockInspect(ref string) (c *Container, unlock func(), err error) {
	id, err := r.Resolve(ref)
	if err != nil {
		return nil, nil, err
	}
	unlock = r.lock(id)
	if c, err = r.inspect(id); err != nil {
		unlock()
		return nil, nil, err
	}
	return c, unlock, nil
}

// Resolve finds a container by full ID, name (with or without Docker's
// leading "/"), or unique ID prefix.
func (r *Runtime) Resolve(ref string) (string, error) {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return "", fmt.Errorf("%w: empty container reference", ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if validID(ref) {
		if _, err := os.Stat(filepath.Join(r.dir(ref), shim.ConfigFile)); err == nil {
			return ref, nil
		}
	}
	if id, ok := r.names[ref]; ok {
		return id, nil
	}
	var match []string
	for _, id := range r.names {
		if strings.HasPrefix(id, ref) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return "", fmt.Errorf("%w: %q matches %d containers: give more of the ID", ErrInvalid, ref, len(match))
}

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
	if err := r.create(spec); err != nil {
		os.RemoveAll(r.dir(spec.ID))
		r.mu.Lock()
		delete(r.names, spec.Name)
		r.mu.Unlock()
		return "", err
	}
	r.watch.add(spec.ID)
	r.emit(spec.ID, "create", nil)
	return spec.ID, nil
}

func (r *Runtime) create(spec Spec) error {
	dir := r.dir(spec.ID)
	if !r.skel.take(dir) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("create container: %w", err)
		}
		for _, name := range skeletonFolders {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				return fmt.Errorf("create container: %w", err)
			}
		}
	}
	// The log exists from the start, so an attach before the first start
	// has a file to follow.
	if f, err := os.OpenFile(filepath.Join(dir, shim.LogFile), os.O_CREATE|os.O_WRONLY, 0o640); err != nil {
		return fmt.Errorf("create container: %w", err)
	} else {
		f.Close()
	}
	// config.json last: a directory without it is a crashed create.
	cfg := shim.Config{Spec: spec, Created: time.Now().UTC(), Launcher: r.launcher, EtcFiles: r.launcher == ""}
	if err := shim.WriteJSON(filepath.Join(dir, shim.ConfigFile), cfg); err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	return nil
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
	st, err := shim.ReadState(dir)
	if err != nil {
		return State{Status: StateDead, Error: "state unreadable: " + err.Error()}, false
	}
	if !st.Running() || shim.Alive(st.ShimPid, st.ShimStartTime) {
		return st, false
	}
	// Re-read: the shim may have written its final state and exited
	// between the read and the check.
	if st2, err := shim.ReadState(dir); err == nil && (!st2.Running() || st2.ShimStartTime != st.ShimStartTime) {
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
