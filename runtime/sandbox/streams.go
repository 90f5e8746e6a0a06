package sandbox

import (
	"io"
	"os"
	"sync"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// programStreams are a launched program's standard streams, made as
// os/exec makes them: an *os.File is passed as it is, nil becomes
// /dev/null, and any other writer gets a pipe that a goroutine copies
// into it until every holder of the pipe has closed it; one pipe when
// stdout and stderr are the same writer, which then sees one Write at a
// time.
type programStreams struct {
	files   [3]*os.File
	opened  []*os.File // the program's ends we opened: ours to close
	copying sync.WaitGroup
}

// openStreams makes the streams of std; the input must be an *os.File or
// nil (see canLaunch).
func openStreams(std stdio) (*programStreams, error) {
	ps := &programStreams{}
	var err error
	if f, ok := std.in.(*os.File); ok && f != nil {
		ps.files[0] = f
	} else {
		ps.files[0], err = ps.open(os.DevNull, os.O_RDONLY)
	}
	for i, w := range []io.Writer{std.out, std.err} {
		if err != nil {
			break
		}
		f, ok := w.(*os.File)
		switch {
		case i == 1 && sameWriter(std.out, std.err):
			ps.files[2] = ps.files[1]
		case ok && f != nil:
			ps.files[i+1] = f
		case w == nil:
			ps.files[i+1], err = ps.open(os.DevNull, os.O_WRONLY)
		default:
			ps.files[i+1], err = ps.copyInto(w)
		}
	}
	if err != nil {
		ps.started()
		ps.wait()
		return nil, err
	}
	return ps, nil
}

// sameWriter is os/exec's test: interfaces holding comparable equal values.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { recover() }() // an incomparable type
	return a == b
}

func (ps *programStreams) open(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag, 0)
	if err == nil {
		ps.opened = append(ps.opened, f)
	}
	return f, err
}

// copyInto returns the write end of a pipe copied into w.
func (ps *programStreams) copyInto(w io.Writer) (*os.File, error) {
	r, pw, err := plainfile.PipeFrom()
	if err != nil {
		return nil, err
	}
	ps.opened = append(ps.opened, pw)
	ps.copying.Add(1)
	go func() {
		defer ps.copying.Done()
		io.Copy(w, r)
		r.Close()
	}()
	return pw, nil
}

// fds are the descriptors the program gets as 0, 1 and 2.
func (ps *programStreams) fds() [3]int {
	return [3]int{int(ps.files[0].Fd()), int(ps.files[1].Fd()), int(ps.files[2].Fd())}
}

// started closes our copies of the ends the program holds now (or never
// will, after a failure).
func (ps *programStreams) started() {
	for _, f := range ps.opened {
		f.Close()
	}
	ps.opened = nil
}

// wait waits for the copying to end, which it does once the program and
// whatever it started have closed the pipes.
func (ps *programStreams) wait() { ps.copying.Wait() }
