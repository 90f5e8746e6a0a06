package runtime

import (
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reconciler/reconciler/internal/filepoll"
	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// stateChanges tells the watcher whose state file a shim rewrote. A
// long-lived runtime learns it from inotify (inotifyChanges); a
// ShortLived one polls the state files of the containers it acts on
// (pollChanges), because an inotify watch costs a process an SRCU grace
// period when it exits (or removes the watch): up to 15 ms here, more
// than a whole `run --rm` spends on the container itself.
type stateChanges interface {
	// watch reports the changes of container id's state from now on; a
	// second call for the same id changes nothing.
	watch(id, dir string)
	unwatch(id, dir string)
	// changed delivers the IDs whose state changed.
	changed() <-chan string
	close()
}

// inotifyChanges watches each container's folder with inotify.
type inotifyChanges struct {
	fs   *fsnotify.Watcher
	out  chan string
	done chan struct{}
}

func newInotifyChanges() (*inotifyChanges, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	c := &inotifyChanges{fs: fs, out: make(chan string, 64), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *inotifyChanges) loop() {
	for {
		select {
		case <-c.done:
			return
		case <-c.fs.Errors:
		case ev, ok := <-c.fs.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) != shim.StateFile {
				continue
			}
			select {
			case c.out <- filepath.Base(filepath.Dir(ev.Name)):
			case <-c.done:
				return
			}
		}
	}
}

func (c *inotifyChanges) watch(_, dir string)    { c.fs.Add(dir) }
func (c *inotifyChanges) unwatch(_, dir string)  { c.fs.Remove(dir) }
func (c *inotifyChanges) changed() <-chan string { return c.out }

func (c *inotifyChanges) close() {
	close(c.done)
	// In the background: closing an inotify instance waits for an SRCU
	// grace period (about 10 ms), on a command's way out.
	go c.fs.Close()
}

// pollChanges polls the watched state files (package filepoll), every
// 64 ms at the slowest. A shim replaces the file on every write, so each
// write is seen.
type pollChanges struct{ w *filepoll.Watcher }

func newPollChanges() pollChanges { return pollChanges{filepoll.New(64 * time.Millisecond)} }

func (c pollChanges) watch(id, dir string)   { c.w.Add(id, filepath.Join(dir, shim.StateFile)) }
func (c pollChanges) unwatch(id, _ string)   { c.w.Remove(id) }
func (c pollChanges) changed() <-chan string { return c.w.Changes() }
func (c pollChanges) close()                 { c.w.Close() }
