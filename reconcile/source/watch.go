package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/spec"
)

// WatchOptions configure a Watcher. Dir and Sink are required.
type WatchOptions struct {
	Dir  string
	Sink Sink
	// Decode parses one file; default spec.Decode.
	Decode func(file string, data []byte) ([]spec.Object, error)
	// Debounce is the quiet time after the last filesystem event before
	// the tree is rescanned; default 50ms. Editors and git write in bursts.
	Debounce time.Duration
	// RemoveGrace is how long a file must stay away before its objects
	// are withdrawn; default 250ms.
	RemoveGrace time.Duration
	// Poll is the interval of full rescans, which catch what events
	// missed and replace them where the folder cannot be watched; default 5s.
	Poll time.Duration
	// Changed, if set, is called after a rescan caused by filesystem events,
	// whether or not a manifest changed: files beside the manifests (an
	// image's build context) may have, and the controller can resync.
	Changed func()
	// Out receives one line per loaded, removed or broken file.
	Out io.Writer
	// Metrics, each optional.
	Files       prometheus.Gauge
	Errors      prometheus.Counter
	WatchEvents prometheus.Counter
}

// Watcher follows a folder tree of manifests. It rescans the whole tree
// on any change and compares file contents by hash, so renames over a
// file (editors' atomic saves), a git checkout rewriting many files, and
// a `..data` symlink swap (Kubernetes ConfigMap volumes) all come down to
// "these files now have this content". Hidden files and folders and
// editors' temporary files are not manifests and are ignored.
type Watcher struct {
	opts WatchOptions
	dir  string

	scanMu  sync.Mutex // one scan at a time
	mu      sync.Mutex
	files   map[string]*fileState
	scanned bool                 // a full scan has completed
	missing map[string]time.Time // tracked files not found, since when
}

type fileState struct {
	sum  [32]byte
	good bool   // the content with sum parsed
	err  string // the parse error of sum, if not good
}

// NewWatcher returns a watcher of opts.Dir; Run starts it.
func NewWatcher(opts WatchOptions) (*Watcher, error) {
	if opts.Sink == nil {
		return nil, errors.New("source: WatchOptions.Sink is required")
	}
	info, err := os.Stat(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", opts.Dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("watch %s: not a folder", opts.Dir)
	}
	if opts.Decode == nil {
		opts.Decode = spec.Decode
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.RemoveGrace <= 0 {
		opts.RemoveGrace = 250 * time.Millisecond
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	return &Watcher{opts: opts, dir: filepath.Clean(Abs(opts.Dir)), files: map[string]*fileState{}, missing: map[string]time.Time{}}, nil
}

// Dir is the absolute folder watched; every source the watcher sets lies
// under it.
func (w *Watcher) Dir() string { return w.dir }

// Prunable reports whether objects from source that no source declares
// may be pruned: the source lies in the watched tree, the tree has been
// scanned once (so a restarted daemon prunes nothing before it has read
// its manifests), and the file is not broken (its objects are kept until
// it parses again).
func (w *Watcher) Prunable(source string) bool {
	if !Under(w.dir, source) {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.scanned {
		return false
	}
	st, ok := w.files[source]
	return !ok || st.good
}

// Errors returns the files whose current content fails to parse, with why.
func (w *Watcher) Errors() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for f, s := range w.files {
		if !s.good {
			out[f] = s.err
		}
	}
	return out
}

// Run scans the tree, then follows it until ctx ends: by filesystem events
// where it can, by polling where it cannot.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		fmt.Fprintf(w.opts.Out, "warning: cannot watch %s (%v): polling every %v\n", w.dir, err, w.opts.Poll)
		fw = nil
	} else {
		defer fw.Close()
	}
	watched := map[string]bool{}
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()
	defer recheck.Stop()
	rescanAfter := func(d time.Duration) {
		if d > 0 {
			recheck.Reset(d)
		}
	}
	rescanAfter(w.scan(fw, watched))

	poll := time.NewTicker(w.opts.Poll)
	defer poll.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if fw != nil {
		events, errs = fw.Events, fw.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if w.opts.WatchEvents != nil {
				w.opts.WatchEvents.Inc()
			}
			debounce.Reset(w.opts.Debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// Overflow or a vanished watch: events were lost, rescan.
			fmt.Fprintf(w.opts.Out, "warning: watching %s: %v (rescanning)\n", w.dir, err)
			debounce.Reset(w.opts.Debounce)
		case <-debounce.C:
			rescanAfter(w.scan(fw, watched))
			if w.opts.Changed != nil {
				w.opts.Changed()
			}
		case <-poll.C:
			rescanAfter(w.scan(fw, watched))
		case <-recheck.C:
			rescanAfter(w.scan(fw, watched))
		}
	}
}

// Scan reads the tree once and hands every changed file to the sink. A
// file that went away is withdrawn by the first Scan at least RemoveGrace
// after it was first missed.
func (w *Watcher) Scan() { w.scan(nil, nil) }

// scan is Scan that also keeps fw (if not nil) watching every folder
// found; watched tracks them.
func (w *Watcher) scan(fw *fsnotify.Watcher, watched map[string]bool) (recheck time.Duration) {
	w.scanMu.Lock()
	defer w.scanMu.Unlock()
	files, dirs := w.walk()
	if fw != nil && w.watchDirs(fw, watched, dirs) {
		// Files made in a new folder before its watch began sent no event:
		// walk again now that it is watched.
		files, dirs = w.walk()
		w.watchDirs(fw, watched, dirs)
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f] = true
		data, err := os.ReadFile(f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				delete(seen, f) // gone between walk and read: treat as removed
			}
			continue
		}
		w.load(f, data)
	}
	// A file is withdrawn only once it has stayed away for RemoveGrace:
	// editors (move away, write anew) and git (unlink, create) make a file
	// vanish for an instant, and that must not prune what it declares.
	now := time.Now()
	w.mu.Lock()
	var gone []string
	for f := range w.files {
		if seen[f] {
			delete(w.missing, f)
			continue
		}
		since, ok := w.missing[f]
		if !ok {
			w.missing[f] = now
			since = now
		}
		if left := w.opts.RemoveGrace - now.Sub(since); left > 0 {
			if recheck == 0 || left < recheck {
				recheck = left
			}
			continue
		}
		gone = append(gone, f)
		delete(w.files, f)
		delete(w.missing, f)
	}
	n := len(w.files)
	w.scanned = true
	w.mu.Unlock()
	sort.Strings(gone)
	for _, f := range gone {
		fmt.Fprintf(w.opts.Out, "file %s removed: pruning its objects\n", w.rel(f))
		w.opts.Sink.SetObjects(f, nil)
	}
	if w.opts.Files != nil {
		w.opts.Files.Set(float64(n))
	}
	return recheck
}

// load parses a file whose content changed and hands its objects on; a
// broken file is reported once and its last good objects stay.
func (w *Watcher) load(f string, data []byte) {
	sum := sha256.Sum256(data)
	w.mu.Lock()
	st, known := w.files[f]
	if known && st.sum == sum {
		w.mu.Unlock()
		return
	}
	if !known {
		st = &fileState{}
		w.files[f] = st
	}
	w.mu.Unlock()

	if len(data) == 0 && known {
		// Most likely a save in progress (truncate, then write): an empty
		// file keeps its objects, like a broken one; removing the file is
		// how to prune them.
		w.mu.Lock()
		st.sum, st.good, st.err = sum, false, "empty file"
		w.mu.Unlock()
		fmt.Fprintf(w.opts.Out, "file %s is empty: its objects are kept (remove the file to prune them)\n", w.rel(f))
		return
	}
	objs, err := w.opts.Decode(f, data)
	w.mu.Lock()
	st.sum = sum
	if err != nil {
		st.good, st.err = false, err.Error()
		w.mu.Unlock()
		if w.opts.Errors != nil {
			w.opts.Errors.Inc()
		}
		keep := "it declared nothing before"
		if known {
			keep = "its objects are kept as they were until it parses again"
		}
		fmt.Fprintf(w.opts.Out, "error: %s: %s\n", indent(err.Error()), keep)
		return
	}
	st.good, st.err = true, ""
	w.mu.Unlock()
	verb := "loaded"
	if known {
		verb = "changed"
	}
	fmt.Fprintf(w.opts.Out, "file %s %s: %d objects\n", w.rel(f), verb, len(objs))
	w.opts.Sink.SetObjects(f, objs)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

func (w *Watcher) rel(f string) string {
	if r, err := filepath.Rel(w.dir, f); err == nil {
		return r
	}
	return f
}

// walk lists the manifest files and the folders of the tree. Symlinks to
// files and folders are followed (a ConfigMap's files are symlinks into
// ..data), each real folder once; hidden names are skipped, except that
// folders reached through a visible symlink are read.
func (w *Watcher) walk() (files, dirs []string) {
	ignore, err := spec.LoadIgnore(w.dir)
	if err != nil {
		fmt.Fprintf(w.opts.Out, "warning: %v: ignoring nothing\n", err)
	}
	visited := map[string]bool{}
	var visit func(dir string)
	visit = func(dir string) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || visited[real] {
			return
		}
		visited[real] = true
		dirs = append(dirs, dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if strings.HasPrefix(e.Name(), ".") || ignore.Ignored(p) {
				continue
			}
			isDir := e.IsDir()
			if e.Type()&fs.ModeSymlink != 0 {
				info, err := os.Stat(p)
				if err != nil {
					continue // dangling, for now
				}
				isDir = info.IsDir()
			}
			switch {
			case isDir:
				visit(p)
			case spec.IsManifestFile(p):
				files = append(files, p)
			}
		}
	}
	visit(w.dir)
	sort.Strings(files)
	return files, dirs
}

// watchDirs keeps a watch on each folder of the tree; where that fails,
// polling covers it. It reports whether a watch was added.
func (w *Watcher) watchDirs(fw *fsnotify.Watcher, watched map[string]bool, dirs []string) (added bool) {
	now := map[string]bool{}
	for _, d := range dirs {
		now[d] = true
		if watched[d] {
			continue
		}
		if err := fw.Add(d); err != nil {
			fmt.Fprintf(w.opts.Out, "warning: cannot watch %s (%v): polling every %v\n", d, err, w.opts.Poll)
			continue
		}
		watched[d] = true
		added = true
	}
	for d := range watched {
		if !now[d] {
			fw.Remove(d)
			delete(watched, d)
		}
	}
	return added
}
