package logs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// MaxLine is the longest chunk stored as one entry; longer lines are split
// into several entries, as Docker does at 16 KiB.
const MaxLine = 16 * 1024

// Defaults for rotation: 10 MiB per file, 3 files (the current one and two
// rotated ones), so a container never uses more than about 30 MiB of logs.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 3
)

// Writer appends entries to a log file and rotates it when it would grow
// past MaxSize. It is safe for concurrent use (stdout and stderr copiers).
type Writer struct {
	path     string
	maxSize  int64
	maxFiles int

	mu   sync.Mutex
	f    *os.File
	size int64
	// followers is the log's followers file, opened at the first batch.
	followers *os.File
}

// OpenWriter opens (or creates) the log at path for appending. maxSize <= 0
// and maxFiles <= 0 select the defaults.
func OpenWriter(path string, maxSize int64, maxFiles int) (*Writer, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if maxFiles <= 0 {
		maxFiles = DefaultMaxFiles
	}
	w := &Writer{path: path, maxSize: maxSize, maxFiles: maxFiles}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := plainfile.Open(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends one entry, rotating first if it would not fit.
func (w *Writer) Write(e Entry) error {
	b, err := encode(e)
	if err != nil {
		return err
	}
	return w.writeEntries(b, []int{len(b)})
}

// writeEntries appends the encoded entries in b, entry i ending at
// ends[i], each whole in the file it starts, as Write would put it: in one
// write unless the file must rotate between two, or a follower reads the
// log (then one write per entry, at a pace the follower keeps up with).
func (w *Writer) writeEntries(b []byte, ends []int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errors.New("log writer closed")
	}
	each := len(ends) > 1 && w.followed()
	from, prev := 0, 0 // b[from:prev] is waiting to be written
	for _, end := range ends {
		if w.size+int64(prev-from) > 0 && w.size+int64(end-from) > w.maxSize {
			if err := w.put(b[from:prev]); err != nil {
				return err
			}
			if err := w.rotate(); err != nil {
				return err
			}
			from = prev
		}
		prev = end
		if each {
			if err := w.put(b[from:prev]); err != nil {
				return err
			}
			from = prev
		}
	}
	return w.put(b[from:prev])
}

func (w *Writer) put(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	return err
}

// followed reports whether a follower reads the log now (or whether that
// cannot be told).
func (w *Writer) followed() bool {
	if w.followers == nil {
		f, err := openFollowers(w.path)
		if err != nil {
			return true
		}
		w.followers = f
	}
	if flock(w.followers, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return true
	}
	flock(w.followers, unix.LOCK_UN)
	return false
}

// rotate shifts NAME.i to NAME.i+1, drops the oldest, and starts a fresh
// NAME, all under the directory lock so readers see the files before or
// after, never in between. With one file it truncates instead; readers
// notice the shrink.
func (w *Writer) rotate() error {
	if w.maxFiles == 1 {
		if err := w.f.Truncate(0); err != nil {
			return fmt.Errorf("truncate log: %w", err)
		}
		w.size = 0
		return nil
	}
	unlock, err := lockDir(filepath.Dir(w.path), unix.LOCK_EX)
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	defer unlock()
	w.f.Close()
	w.f = nil
	os.Remove(fmt.Sprintf("%s.%d", w.path, w.maxFiles-1))
	for i := w.maxFiles - 2; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", w.path, i), fmt.Sprintf("%s.%d", w.path, i+1))
	}
	if err := os.Rename(w.path, w.path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate log: %w", err)
	}
	return w.open()
}

// batchBytes bounds what Copy encodes before it writes.
const batchBytes = 64 << 10

// Copy reads r until EOF and writes one entry per line (or per MaxLine
// chunk) on stream. It returns nil at EOF.
//
// The lines of one read go out in one write while nobody follows the log
// (writeEntries): a container printing flat out costs a system call per
// read, not per line. Each line is written before the next read can wait,
// so a follower sees it as soon as it was printed.
func (w *Writer) Copy(stream string, r io.Reader) error {
	br := bufio.NewReaderSize(r, MaxLine)
	var b []byte
	var ends []int
	for {
		line, err := br.ReadSlice('\n')
		var werr error
		if len(line) > 0 {
			if b, werr = appendEntry(b, Entry{Stream: stream, Time: time.Now(), Line: line}); werr == nil {
				ends = append(ends, len(b))
			}
		}
		if werr == nil && len(ends) > 0 && (br.Buffered() == 0 || len(b) >= batchBytes || err != nil && !errors.Is(err, bufio.ErrBufferFull)) {
			werr = w.writeEntries(b, ends)
			b, ends = b[:0], ends[:0]
		}
		if werr != nil {
			// Keep draining so the container never blocks on a full pipe.
			io.Copy(io.Discard, br)
			return werr
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed):
			return nil
		default:
			return err
		}
	}
}

// Close closes the current file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.followers != nil {
		w.followers.Close()
		w.followers = nil
	}
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
