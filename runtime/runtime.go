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
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// runViews counts the views that hold a run's root, its overlay
	// mounted: no other run mounts the same layer while one is open.
	runViews readers

	spareMu sync.Mutex
	spares  []*spareShim            // shims waiting for a container (see spare.go)
	serving map[*spareShim]struct{} // shims of ours serving one, until free
	held    map[string]*heldStart   // by container ID (see held.go)
	closed  bool
	// starting counts the starts waiting for their shim's report (see
	// shimProcs).
	starting atomic.Int32
	// reported are states shims reported ahead of state.json (see
	// reported.go).
	reported sync.Map
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
	r := &Runtime{root: root, opts: opts, names: map[string]string{}, locks: map[string]*idLock{}, skel: skel, serving: map[*spareShim]struct{}{}, held: map[string]*heldStart{}}
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
	r.settleReported(2 * time.Second)
	r.callOffAll()
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
// state under the lock. A start held for it is called off (see
// heldStart): what the caller does must come before the setup, not after.
func (r *Runtime) lockInspect(ref string) (c *Container, unlock func(), err error) {
	if c, unlock, err = r.lockInspectHeld(ref); err == nil {
		r.callOff(c.ID)
	}
	return c, unlock, err
}

// lockInspectHeld is lockInspect, but a start held for the container
// stays held (Start lets it go ahead).
func (r *Runtime) lockInspectHeld(ref string) (c *Container, unlock func(), err error) {
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
