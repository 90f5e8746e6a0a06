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
// returned are delivered (what an attach needs).
func Read(ctx context.Context, path string, opts ReadOptions) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{ch: make(chan Entry, 64), cancel: cancel, done: make(chan struct{})}
	r := &reader{path: path, opts: opts, s: s, ctx: ctx}
	r.cur, _ = os.Open(path) // may not exist yet: created by the first write
	if r.cur != nil && opts.Tail == 0 {
		r.pos, _ = r.cur.Seek(0, io.SeekEnd)
	}
	go func() {
		defer close(s.done)
		defer close(s.ch)
		err := r.run()
		if r.cur != nil {
			r.cur.Close()
		}
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

	cur     *os.File
	pos     int64
	partial []byte
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

func (r *reader) emit(e Entry) error {
	select {
	case r.s.ch <- e:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

func (r *reader) run() error {
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

// history delivers stored entries (rotated files oldest first, then the
// current one up to its end), keeping only the last Tail if asked.
func (r *reader) history() error {
	var ring []Entry
	keep := func(e Entry) error {
		if !r.want(e) {
			return nil
		}
		if r.opts.Tail < 0 {
			return r.emit(e)
		}
		if len(ring) == r.opts.Tail {
			ring = ring[1:]
		}
		ring = append(ring, e)
		return nil
	}
	for i := len(r.names()) - 1; i >= 1; i-- {
		f, err := os.Open(fmt.Sprintf("%s.%d", r.path, i))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		_, err = scan(f, nil, keep)
		f.Close()
		if err != nil {
			return err
		}
	}
	if r.cur != nil {
		n, err := scan(r.cur, nil, keep)
		r.pos += n
		if err != nil {
			return err
		}
	}
	for _, e := range ring {
		if err := r.emit(e); err != nil {
			return err
		}
	}
	return nil
}

// scan reads complete lines from f, calling fn for each decoded entry. It
// returns how many bytes it consumed; an incomplete last line is left.
func scan(f *os.File, partial *[]byte, fn func(Entry) error) (int64, error) {
	var buf []byte
	if partial != nil {
		buf = *partial
	}
	var consumed int64
	chunk := make([]byte, 64*1024)
	for {
		n, err := f.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			line := buf[:i]
			consumed += int64(i + 1)
			buf = buf[i+1:]
			if e, derr := decode(line); derr == nil {
				if ferr := fn(e); ferr != nil {
					return consumed, ferr
				}
			}
		}
		if err != nil {
			if partial != nil {
				*partial = append((*partial)[:0], buf...)
				consumed += int64(len(buf))
			}
			if errors.Is(err, io.EOF) {
				return consumed, nil
			}
			return consumed, err
		}
	}
}

// follow delivers new entries as they are written, moving to the new file
// when the current one is rotated away, until the context ends or Stop is
// closed and everything written before has been delivered.
func (r *reader) follow() error {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		if err := w.Add(filepath.Dir(r.path)); err != nil {
			w.Close()
			w = nil
		}
	}
	var events chan fsnotify.Event
	var errs chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	stopping := false
	emit := func(e Entry) error {
		if !r.want(e) {
			return nil
		}
		return r.emit(e)
	}
	for {
		if r.cur == nil {
			r.cur, _ = os.Open(r.path)
			r.pos, r.partial = 0, r.partial[:0]
		}
		if r.cur != nil {
			if st, err := r.cur.Stat(); err == nil && st.Size() < r.pos {
				// Truncated in place (a single-file log): start over.
				r.cur.Seek(0, io.SeekStart)
				r.pos, r.partial = 0, r.partial[:0]
			}
			n, err := scan(r.cur, &r.partial, emit)
			r.pos += n
			if err != nil {
				return err
			}
			if next, moved := r.successor(); moved {
				// Drain what was written before the rename, then move on
				// to the file written after this one.
				if _, err := scan(r.cur, &r.partial, emit); err != nil {
					return err
				}
				r.cur.Close()
				r.cur = next
				r.pos, r.partial = 0, r.partial[:0]
				continue
			}
		}
		if stopping {
			return nil
		}
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-r.opts.Stop:
			stopping = true
		case <-events:
		case <-errs:
		case <-tick.C:
		}
	}
}

// names lists the log's files, current first, then the rotated ones from
// the youngest, as far as they exist (plus one, for a rotation in flight).
func (r *reader) names() []string {
	names := []string{r.path}
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s.%d", r.path, i)
		names = append(names, name)
		if _, err := os.Lstat(name); err != nil {
			return names
		}
	}
}

// successor reports whether the file being read has been rotated away and,
// if so, opens the file written after it: the next younger rotated file, or
// the current one. If the file fell off the end (the reader lagged behind
// more rotations than files are kept) it resumes at the oldest file left.
func (r *reader) successor() (*os.File, bool) {
	cst, err := r.cur.Stat()
	if err != nil {
		f, _ := os.Open(r.path)
		return f, true
	}
	names := r.names()
	for attempt := 0; ; attempt++ {
		files := make([]*os.File, len(names))
		infos := make([]os.FileInfo, len(names))
		for i, name := range names {
			if f, err := os.Open(name); err == nil {
				files[i] = f
				infos[i], _ = f.Stat()
			}
		}
		// A rotation while opening shifts the names: check and retry.
		stable := true
		for i, name := range names {
			st, err := os.Stat(name)
			if (err == nil) != (infos[i] != nil) || (err == nil && !os.SameFile(st, infos[i])) {
				stable = false
			}
		}
		pick := -1
		if stable || attempt >= 5 {
			pick = len(names) // not found: the oldest file left
			for i, info := range infos {
				if info != nil && os.SameFile(info, cst) {
					pick = i
					break
				}
			}
		}
		var next *os.File
		moved := pick != 0
		for i := pick - 1; moved && i >= 0 && next == nil; i-- {
			next, files[i] = files[i], nil
		}
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
		if pick >= 0 {
			return next, moved
		}
	}
}
