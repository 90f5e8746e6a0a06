package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reconciler/reconciler/internal/filepoll"
)

// TailAll asks for every stored line.
const TailAll = -1

// ReadOptions select what a Stream delivers.
type ReadOptions struct {
	// Tail is how many of the last stored lines to deliver first: TailAll
	// (any negative) for all of them, 0 for none (useful with Follow).
	Tail int
	// Since and Until bound entry times; zero means unbounded.
	Since, Until time.Time
	// Stdout and Stderr select streams; both false means both.
	Stdout, Stderr bool
	// Follow keeps delivering new entries, across rotations, until the
	// context ends or Stop is closed (then the rest is drained first).
	Follow bool
	Stop   <-chan struct{}
	// Poll makes the follower poll the log (package filepoll) instead of
	// watching it with inotify: for a process that ends soon, which
	// inotify would make wait for a grace period on its way out.
	Poll bool
}

// Stream delivers entries in order; Next returns io.EOF at the end.
type Stream struct {
	ch     chan Entry
	err    error // set before ch is closed
	cancel context.CancelFunc
	done   chan struct{}
}

// Done is closed once the stream has ended (delivered everything, failed,
// or was closed), so whoever feeds its Stop can stop waiting.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Next returns the next entry, io.EOF at the end, or the error that ended
// the stream (the context's error if it was cancelled).
func (s *Stream) Next() (Entry, error) {
	e, ok := <-s.ch
	if !ok {
		if s.err != nil {
			return Entry{}, s.err
		}
		return Entry{}, io.EOF
	}
	return e, nil
}

// Close stops the stream and releases its files.
func (s *Stream) Close() {
	s.cancel()
	for range s.ch {
	}
}

// CopyTo writes every entry to stdout or stderr by stream until the end,
// with timestamps if asked. io.EOF is not an error.
func (s *Stream) CopyTo(stdout, stderr io.Writer, timestamps bool) error {
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		w := stdout
		if e.Stream == Stderr {
			w = stderr
		}
		if _, err := w.Write(e.Format(timestamps)); err != nil {
			s.Close()
			return err
		}
	}
}

// Read opens the log at path. The position "now" is fixed before Read
// returns: with Tail 0 and Follow, exactly the entries written after Read
// returned are delivered (what an attach needs). Before the log exists,
// "now" is its beginning.
//
// A follower delivers every entry once, in order, across any number of
// rotations while it reads: it finds the files written after the one it
// holds by identity (device and inode), never by name, and holds each of
// them open from the moment it sees it (on each file event in the
// directory, and at least every 250ms, also while its consumer is slow),
// so renames and deletions (rotation, removal of the container) take
// nothing it has yet to read. The limit is that of Docker's json-file:
// when a file is deleted before the follower has seen it, or the follower
// falls behind by more files than the writer keeps (it holds at most one
// more), the oldest unread data is lost; the follower then goes on with
// the oldest data still there, and never repeats any. A follower also
// makes the writer write one entry at a time while it follows (see
// followersSuffix), a pace it keeps up with; one that starts before the
// log's folder exists cannot, and a writer in bulk may outrun it.
func Read(ctx context.Context, path string, opts ReadOptions) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{ch: make(chan Entry, 64), cancel: cancel, done: make(chan struct{})}
	r := &reader{path: path, opts: opts, s: s, ctx: ctx}
	if opts.Follow {
		// Before "now" is fixed: the writer writes at a follower's pace
		// from then on.
		r.following = follow(path)
	}
	err := r.open()
	go func() {
		defer close(s.done)
		defer close(s.ch)
		if err == nil {
			err = r.run()
		}
		r.close()
		if errors.Is(err, io.EOF) {
			err = nil
		}
		s.err = err
	}()
	return s
}

type reader struct {
	path string
	opts ReadOptions
	s    *Stream
	ctx  context.Context

	// cur is the file being read, pos how far (in bytes read from it), and
	// partial an incomplete last line read so far.
	cur     *os.File
	pos     int64
	partial []byte
	// pending are the files written after cur, oldest first, held open so
	// that rotation cannot take them away; last is the identity of the
	// youngest file held (nil before the log exists).
	pending  []*os.File
	last     os.FileInfo
	lastFile *os.File

	// following holds the log's followers lock (see followersSuffix)
	// while a follower runs; nil otherwise.
	following *os.File

	// Wake-ups while following (nil otherwise): file events in the log's
	// directory (or, with Poll, changes of the current file) and a tick in
	// case they are lost.
	events <-chan fsnotify.Event
	errs   <-chan error
	polled <-chan string
	tick   <-chan time.Time
}

// open takes the files that exist now: all of them for a history, else
// just the current one, positioned at its end.
func (r *reader) open() error {
	files, _, err := listFiles(r.path)
	if err != nil || len(files) == 0 {
		return err
	}
	if r.opts.Tail == 0 {
		closeFiles(files[:len(files)-1])
		files = files[len(files)-1:]
		if r.pos, err = files[0].f.Seek(0, io.SeekEnd); err != nil {
			files[0].f.Close()
			return fmt.Errorf("open log: %w", err)
		}
	}
	r.cur = files[0].f
	r.last, r.lastFile = files[len(files)-1].info, files[len(files)-1].f
	for _, lf := range files[1:] {
		r.pending = append(r.pending, lf.f)
	}
	return nil
}

func (r *reader) close() {
	if r.following != nil {
		r.following.Close()
	}
	if r.cur != nil {
		r.cur.Close()
	}
	for _, f := range r.pending {
		f.Close()
	}
	r.cur, r.pending = nil, nil
}

func (r *reader) want(e Entry) bool {
	if r.opts.Stdout != r.opts.Stderr {
		if (e.Stream == Stdout) != r.opts.Stdout {
			return false
		}
	}
	if !r.opts.Since.IsZero() && e.Time.Before(r.opts.Since) {
		return false
	}
	if !r.opts.Until.IsZero() && e.Time.After(r.opts.Until) {
		return false
	}
	return true
}

// emit hands e to the consumer. While the consumer is slow, the follower
// keeps pinning new files, so rotation does not delete what it has yet to
// read.
func (r *reader) emit(e Entry) error {
	if !r.want(e) {
		return nil
	}
	for {
		select {
		case r.s.ch <- e:
			return nil
		case <-r.ctx.Done():
			return r.ctx.Err()
		case ev := <-r.events:
			if ev.Has(fsnotify.Create) {
				r.pin() // on failure, the next tick tries again
			}
		case <-r.errs:
		case <-r.polled:
			r.pin()
		case <-r.tick:
			r.pin()
		}
	}
}

func (r *reader) run() error {
	if r.opts.Follow {
		stop := r.watch()
		defer stop()
	}
	if r.opts.Tail != 0 {
		if err := r.history(); err != nil {
			return err
		}
	}
	if !r.opts.Follow {
		return nil
	}
	return r.follow()
}

// watch sets up the follower's wake-ups.
func (r *reader) watch() (stop func()) {
	tick := time.NewTicker(250 * time.Millisecond)
	r.tick = tick.C
	if r.opts.Poll {
		// Every 16 ms at the slowest: a terminal's echo, followed
		// through the log, must not lag behind the typing.
		p := filepoll.New(16 * time.Millisecond)
		p.Add(r.path, r.path)
		r.polled = p.Changes()
		return func() {
			tick.Stop()
			p.Close()
		}
	}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(r.path)); err == nil {
			r.events, r.errs = w.Events, w.Errors
		} else {
			w.Close()
		}
	}
	return func() {
		tick.Stop()
		if err == nil {
			// Closing an inotify instance waits for an SRCU grace period
			// (about 10 ms); nothing needs to wait for it.
			go w.Close()
		}
	}
}

// history delivers the stored entries (the files taken by open, oldest
// first, each to its end), keeping only the last Tail if asked.
func (r *reader) history() error {
	var ring []Entry
	keep := r.emit
	if r.opts.Tail > 0 {
		keep = func(e Entry) error {
			if !r.want(e) {
				return nil
			}
			if len(ring) == r.opts.Tail {
				ring = ring[1:]
			}
			ring = append(ring, e)
			return nil
		}
	}
	for r.cur != nil {
		if err := r.read(keep); err != nil {
			return err
		}
		if !r.advance() {
			break
		}
	}
	for _, e := range ring {
		if err := r.emit(e); err != nil {
			return err
		}
	}
	return nil
}

// read delivers the complete lines of cur from pos to its end; an
// incomplete last line waits in partial for the rest.
func (r *reader) read(fn func(Entry) error) error {
	if st, err := r.cur.Stat(); err == nil && st.Size() < r.pos {
		// Truncated in place (a single-file log): start over.
		if _, err := r.cur.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r.pos, r.partial = 0, r.partial[:0]
	}
	n, err := scan(r.cur, &r.partial, fn)
	r.pos += n
	return err
}

// advance moves to the next pending file, if there is one.
func (r *reader) advance() bool {
	if len(r.pending) == 0 {
		return false
	}
	if r.cur != nil {
		r.cur.Close()
	}
	r.cur, r.pending = r.pending[0], r.pending[1:]
	r.pos, r.partial = 0, r.partial[:0]
	return true
}

// scan reads f to its end, calling fn for each complete line's entry and
// keeping an incomplete last line in *partial (continued on the next call).
// It returns how many bytes it read from f.
func scan(f *os.File, partial *[]byte, fn func(Entry) error) (int64, error) {
	buf := *partial
	defer func() { *partial = append((*partial)[:0], buf...) }()
	var read int64
	chunk := make([]byte, 64*1024)
	for {
		n, err := f.Read(chunk)
		read += int64(n)
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			line := buf[:i]
			buf = buf[i+1:]
			if e, derr := decode(line); derr == nil {
				if ferr := fn(e); ferr != nil {
					return read, ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return read, nil
		}
		if err != nil {
			return read, err
		}
	}
}

// follow delivers new entries as they are written, across rotations,
// until the context ends or Stop is closed and everything written before
// has been delivered.
func (r *reader) follow() error {
	stopping := false
	for {
		if err := r.drain(); err != nil {
			return err
		}
		if stopping {
			return nil
		}
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-r.opts.Stop:
			stopping = true
		case <-r.events:
		case <-r.errs:
		case <-r.polled:
		case <-r.tick:
		}
	}
}

// drain delivers everything written so far: cur to its end and, when
// younger files exist, cur's rest and then each of them in turn.
func (r *reader) drain() error {
	for {
		if r.cur == nil {
			if err := r.pin(); err != nil {
				return err
			}
			if !r.advance() {
				return nil // no log yet
			}
		}
		if err := r.read(r.emit); err != nil {
			return err
		}
		if len(r.pending) == 0 {
			if err := r.pin(); err != nil {
				return err
			}
			if len(r.pending) == 0 {
				return nil // cur is the current file: wait for more
			}
		}
		// The writer closed cur before it created the next file: what cur
		// holds now is all it will ever hold.
		if err := r.read(r.emit); err != nil {
			return err
		}
		r.advance()
	}
}

// pin opens, and holds, every file written after the youngest one held.
// The one held is found among the files by identity; when it is not there
// any more (deleted: the reader fell behind by more than the writer
// keeps), the files there are younger than it. A listing without the
// current file is a log being removed: nothing in it is new.
func (r *reader) pin() error {
	if r.last != nil {
		if st, err := os.Stat(r.path); err == nil && os.SameFile(st, r.last) {
			return nil // still the current file: nothing new
		}
	}
	files, current, err := listFiles(r.path)
	if err != nil {
		return err
	}
	newer := files
	if !current {
		newer = nil
	}
	for i, lf := range files {
		if r.last != nil && os.SameFile(lf.info, r.last) {
			newer = files[i+1:]
		}
	}
	if r.last != nil && len(newer) == len(files) {
		// Not found. A file last written before the one held was is
		// older, whatever else happened to the directory.
		if st, err := r.lastFile.Stat(); err == nil {
			for len(newer) > 0 && newer[0].info.ModTime().Before(st.ModTime()) {
				newer = newer[1:]
			}
		}
	}
	closeFiles(files[:len(files)-len(newer)])
	if len(newer) == 0 {
		return nil
	}
	for _, lf := range newer {
		r.pending = append(r.pending, lf.f)
	}
	r.last, r.lastFile = newer[len(newer)-1].info, newer[len(newer)-1].f
	// Hold no more unread files than the writer keeps: the oldest ones it
	// has deleted go (as they would for Docker's json-file), so a stalled
	// client does not pin disk space without bound.
	for len(r.pending) > len(files) && unlinked(r.pending[0]) {
		r.pending[0].Close()
		r.pending = r.pending[1:]
	}
	return nil
}
