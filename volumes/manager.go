package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/atomicfile"
)

// DriverLocal is the only driver: a folder under the state root.
const DriverLocal = "local"

// ScopeLocal is Docker's scope for volumes that live on one host.
const ScopeLocal = "local"

// Labels this package reads. LabelManaged equals engine.LabelManaged.
const (
	// LabelManaged marks objects the reconciler created and owns.
	LabelManaged = "io.reconciler.managed"
	// LabelReclaimPolicy carries a managed volume's reclaimPolicy
	// (ReclaimRetain or ReclaimDelete).
	LabelReclaimPolicy = "io.reconciler.reclaim-policy"
	// LabelAnonymous marks volumes created without a name, with Docker's
	// label, so Docker-23-style prune (anonymous volumes only) finds them.
	LabelAnonymous = engine.LabelAnonymousVolume
)

// Reclaim policies, as in a Volume manifest's spec.reclaimPolicy.
const (
	ReclaimRetain = "Retain"
	ReclaimDelete = "Delete"
)

// Volume is a named volume as the manager reports it.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string // ROOT/NAME/_data, the folder containers see
	Labels     map[string]string
	Options    map[string]string
	Scope      string // always ScopeLocal
	CreatedAt  time.Time
	// Users are the IDs of the containers using the volume (Use), sorted.
	Users []string
	// CopiedUp reports that the one copy-up this volume ever gets is done.
	CopiedUp bool
}

// Anonymous reports whether the volume was created without a name.
func (v *Volume) Anonymous() bool {
	_, ok := v.Labels[LabelAnonymous]
	return ok
}

// Retained reports whether Prune keeps the volume unless told otherwise:
// the reconciler manages it and its reclaim policy is not Delete. Retain is
// the manifests' default, so a managed volume without the policy label is
// retained too.
func (v *Volume) Retained() bool {
	return v.Labels[LabelManaged] == "true" && v.Labels[LabelReclaimPolicy] != ReclaimDelete
}

// Manager creates, finds and removes the volumes of one state folder. It is
// safe for concurrent use, also by several processes on the same folder.
type Manager struct {
	root     string
	mu       sync.Mutex // serialises writers in this process
	lockFile *os.File   // ROOT/.lock, flocked by writers across processes
	sizes    sizeCache
}

// Open opens (creating it if needed) the volume folder root and finishes
// or discards what a crash interrupted: half-created or half-removed
// volumes, metadata temp files, and copy-ups (a fully staged copy is moved
// in; a partial one is dropped and done again on the next CopyUp).
func Open(root string) (*Manager, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, fmt.Errorf("open volumes %s: %w", root, err)
	}
	lf, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open volumes %s: %w", root, err)
	}
	m := &Manager{root: root, lockFile: lf}
	unlock, err := m.lock()
	if err != nil {
		lf.Close()
		return nil, err
	}
	defer unlock()
	if err := m.recover(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("open volumes %s: recover: %w", root, err)
	}
	return m, nil
}

// Close releases the manager's lock file. The manager must not be used
// afterwards.
func (m *Manager) Close() error { return m.lockFile.Close() }

// Root is the manager's state folder.
func (m *Manager) Root() string { return m.root }

// lock takes the in-process mutex and the cross-process flock.
func (m *Manager) lock() (unlock func(), err error) {
	m.mu.Lock()
	if err := unix.Flock(int(m.lockFile.Fd()), unix.LOCK_EX); err != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", m.lockFile.Name(), err)
	}
	return func() {
		unix.Flock(int(m.lockFile.Fd()), unix.LOCK_UN)
		m.mu.Unlock()
	}, nil
}

func (m *Manager) dir(name string) string      { return filepath.Join(m.root, name) }
func (m *Manager) metaPath(name string) string { return filepath.Join(m.root, name, metaFile) }

// recover runs under the lock, at Open.
func (m *Manager) recover() error {
	entries, err := os.ReadDir(m.root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), tmpPrefix):
			if err := os.RemoveAll(filepath.Join(m.root, e.Name())); err != nil {
				return err
			}
		case e.IsDir() && validName.MatchString(e.Name()):
			if err := m.recoverVolume(e.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) recoverVolume(name string) error {
	dir := m.dir(name)
	leftovers, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*"))
	for _, p := range leftovers {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	md, err := readMeta(m.metaPath(name))
	if err != nil {
		// Not ours or corrupt: never delete what we do not understand.
		// Get reports it with the file's name.
		return nil
	}
	if md.CopyUp == copyUpMoving {
		return m.finishCopyUp(name, md)
	}
	return os.RemoveAll(filepath.Join(dir, stagingDir))
}

// load reads a volume's metadata; ErrNotFound if it does not exist.
func (m *Manager) load(name string) (*meta, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	md, err := readMeta(m.metaPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	return md, err
}

func (m *Manager) volume(md *meta) *Volume {
	return &Volume{
		Name:       md.Name,
		Driver:     md.Driver,
		Mountpoint: filepath.Join(m.dir(md.Name), dataDir),
		Labels:     md.Labels,
		Options:    md.Options,
		Scope:      ScopeLocal,
		CreatedAt:  md.CreatedAt,
		Users:      md.Users,
		CopiedUp:   md.CopiedUp,
	}
}

// CreateOptions describe a volume to create.
type CreateOptions struct {
	// Name of the volume; empty creates an anonymous volume with a random
	// 64-hex-digit name and the LabelAnonymous label, as Docker does.
	Name string
	// Driver must be "" or DriverLocal.
	Driver string
	Labels map[string]string
}

// Create creates a volume, or returns the existing one of that name if it
// has the same driver and labels (so callers may create unconditionally).
// An existing volume with other options is an ErrConflict naming the field;
// its data is never touched.
func (m *Manager) Create(opts CreateOptions) (*Volume, error) {
	name, driver := opts.Name, opts.Driver
	labels := maps.Clone(opts.Labels)
	if driver == "" {
		driver = DriverLocal
	}
	if name == "" {
		name = anonymousName()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelAnonymous] = ""
	}
	if len(labels) == 0 {
		labels = nil
	}
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if driver != DriverLocal {
		return nil, fmt.Errorf("create %s: %w: volume driver %q is not supported; use %q", name, ErrInvalid, driver, DriverLocal)
	}
	unlock, err := m.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()

	existing, err := m.load(name)
	switch {
	case err == nil:
		if existing.Driver != driver {
			return nil, fmt.Errorf("create %s: %w: volume already exists with driver %q, not %q; remove it first or use another name", name, ErrConflict, existing.Driver, driver)
		}
		if !maps.Equal(existing.Labels, labels) {
			return nil, fmt.Errorf("create %s: %w: volume already exists with labels %s, not %s; remove it first or use the same labels", name, ErrConflict, formatLabels(existing.Labels), formatLabels(labels))
		}
		return m.volume(existing), nil
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}

	md := &meta{Version: metaVersion, Name: name, Driver: driver, Labels: labels, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := m.createDir(md); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return m.volume(md), nil
}

// createDir builds the volume under a temporary name and renames it into
// place, so a crash leaves either no volume or a complete one.
func (m *Manager) createDir(md *meta) (err error) {
	tmp, err := os.MkdirTemp(m.root, tmpPrefix+"create-"+md.Name+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Mkdir(filepath.Join(tmp, dataDir), 0o755); err != nil {
		return err
	}
	if err = writeMeta(filepath.Join(tmp, metaFile), md); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o701); err != nil {
		return err
	}
	if err = os.Rename(tmp, m.dir(md.Name)); err != nil {
		return err
	}
	return atomicfile.SyncDir(m.root)
}

// Get returns the volume called name, or an error wrapping ErrNotFound.
func (m *Manager) Get(name string) (*Volume, error) {
	md, err := m.load(name)
	if err != nil {
		return nil, err
	}
	return m.volume(md), nil
}

// List returns the volumes matching f, sorted by name.
func (m *Manager) List(f Filter) ([]*Volume, error) {
	entries, err := os.ReadDir(m.root)
	if err != nil {
		return nil, err
	}
	var out []*Volume
	for _, e := range entries {
		if !e.IsDir() || !validName.MatchString(e.Name()) {
			continue
		}
		md, err := readMeta(m.metaPath(e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile, or not a volume
		}
		if err != nil {
			return nil, err
		}
		if v := m.volume(md); f.Match(v) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes a volume and its data. A volume any container uses is
// refused with an ErrInUse naming the containers, force or not; force only
// makes a missing volume not an error (Docker's rm -f).
func (m *Manager) Remove(name string, force bool) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	md, err := m.load(name)
	if err != nil {
		if force && errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if len(md.Users) > 0 {
		return inUseError(md)
	}
	return m.removeDir(name)
}

func inUseError(md *meta) error {
	return fmt.Errorf("remove %s: %w - [%s]", md.Name, ErrInUse, strings.Join(md.Users, ", "))
}

// removeDir renames the volume away first, so it disappears at once and a
// crash during the deletion of its data leaves only a ".tmp-" folder that
// Open deletes.
func (m *Manager) removeDir(name string) error {
	tmp := filepath.Join(m.root, tmpPrefix+"remove-"+name+"-"+anonymousName()[:8])
	if err := os.Rename(m.dir(name), tmp); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(m.root); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	m.sizes.forget(name)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove %s: volume is gone but deleting its data in %s failed (it is retried at the next start): %w", name, tmp, err)
	}
	return nil
}

func formatLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
