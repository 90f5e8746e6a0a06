// Package filepoll reports changed files by polling them: often right
// after a change, ever more rarely while none changes. It stands in for
// inotify in processes that end soon: a process that used inotify waits,
// on its way out, for an SRCU grace period (up to 15 ms on a small VM).
package filepoll

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A Watcher polls files, each under a key, and delivers the key of each
// file that changed (was written, replaced, created or removed).
type Watcher struct {
	slowest time.Duration

	mu    sync.Mutex
	files map[string]file
	kick  chan struct{}
	out   chan string
	done  chan struct{}
}

type file struct {
	path  string
	stamp stamp
}

// stamp identifies one version of a file; zero when there is none.
type stamp struct {
	ino, size int64
	mtime     unix.Timespec
}

func stampOf(path string) stamp {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return stamp{}
	}
	return stamp{ino: int64(st.Ino), size: st.Size, mtime: st.Mtim}
}

// New starts a Watcher that polls every millisecond after a change (or an
// Add), doubling the interval after every four quiet polls up to slowest;
// Close ends it.
func New(slowest time.Duration) *Watcher {
	w := &Watcher{slowest: max(slowest, time.Millisecond), files: map[string]file{}, kick: make(chan struct{}, 1), out: make(chan string, 64), done: make(chan struct{})}
	go w.loop()
	return w
}

// Add watches path under key from now on (a key already watched keeps
// its path) and polls soon.
func (w *Watcher) Add(key, path string) {
	w.mu.Lock()
	if _, ok := w.files[key]; !ok {
		w.files[key] = file{path: path, stamp: stampOf(path)}
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Remove stops watching key.
func (w *Watcher) Remove(key string) {
	w.mu.Lock()
	delete(w.files, key)
	w.mu.Unlock()
}

// Changes delivers the keys of changed files.
func (w *Watcher) Changes() <-chan string { return w.out }

// Close stops the Watcher.
func (w *Watcher) Close() { close(w.done) }

func (w *Watcher) loop() {
	p := pace{fastest: time.Millisecond, slowest: w.slowest, step: 4}
	t := time.NewTimer(p.fastest)
	defer t.Stop()
	for {
		var d time.Duration
		select {
		case <-w.done:
			return
		case <-w.kick:
			d = p.next(true)
		case <-t.C:
			d = p.next(w.poll())
		}
		t.Stop()
		t.Reset(d)
	}
}

// poll delivers each changed file's key; it returns whether any changed.
func (w *Watcher) poll() bool {
	var keys []string
	w.mu.Lock()
	for k, f := range w.files {
		if s := stampOf(f.path); s != f.stamp {
			w.files[k] = file{path: f.path, stamp: s}
			keys = append(keys, k)
		}
	}
	w.mu.Unlock()
	for _, k := range keys {
		select {
		case w.out <- k:
		case <-w.done:
			return false
		}
	}
	return len(keys) > 0
}

// pace is the polling interval: fastest right after activity, doubling
// after every step quiet polls, up to slowest.
type pace struct {
	fastest, slowest time.Duration
	step             int
	idle             int // quiet polls in a row
}

// next counts a poll (active: it found a change) and returns the wait
// until the next one.
func (p *pace) next(active bool) time.Duration {
	if active {
		p.idle = 0
	} else if p.fastest<<(p.idle/p.step) < p.slowest {
		p.idle++
	}
	return min(p.fastest<<(p.idle/p.step), p.slowest)
}
