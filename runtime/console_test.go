package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// rawLog is a container's whole log as the terminal wrote it, with the
// streams seen.
func rawLog(t *testing.T, r *Runtime, id string) (string, map[string]bool) {
	t.Helper()
	s, err := r.Logs(context.Background(), id, LogOptions{Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	streams := map[string]bool{}
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return b.String(), streams
		}
		if err != nil {
			t.Fatalf("log stream: %v (so far %q)", err, b.String())
		}
		b.Write(e.Line)
		streams[e.Stream] = true
	}
}

func TestTtyContainer(t *testing.T) {
	r := newRuntime(t, false)
	s := boxSpec(t, "tty", "tty && stty size && echo done >&2")
	s.Tty, s.ConsoleSize = true, [2]uint{24, 80}
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	if code := waitExit(t, r, id); code != 0 {
		out, _ := rawLog(t, r, id)
		t.Fatalf("exit %d, output %q", code, out)
	}
	// The slave comes from the container's own devpts: its first pty.
	out, streams := rawLog(t, r, id)
	if want := "/dev/pts/0\r\n24 80\r\ndone\r\n"; out != want {
		t.Errorf("log %q, want %q", out, want)
	}
	if len(streams) != 1 || !streams["stdout"] {
		t.Errorf("a terminal's log is one stdout stream, got %v", streams)
	}
	if err := r.Resize(context.Background(), id, 10, 10); !errors.Is(err, ErrNotRunning) {
		t.Errorf("resize of an exited container: %v", err)
	}
}

func TestTtyContainerInputAndResize(t *testing.T) {
	r := newRuntime(t, false)
	ctx := ctxT(t, 20*time.Second)
	s := boxSpec(t, "tty-in", "read l; stty size; echo got:$l")
	s.Tty, s.OpenStdin, s.StdinOnce = true, true, true
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	if err := r.Resize(ctx, id, 30, 100); err != nil {
		t.Fatal(err)
	}
	in, err := r.AttachStdin(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(in, "typed\n")
	in.Close()
	if code := waitExit(t, r, id); code != 0 {
		t.Errorf("exit %d", code)
	}
	// The terminal echoes the input, then the program's output, CRLF.
	out, _ := rawLog(t, r, id)
	if want := "typed\r\n30 100\r\ngot:typed\r\n"; out != want {
		t.Errorf("log %q, want %q", out, want)
	}
	plain := mustCreate(t, r, boxSpec(t, "no-tty", "sleep 100"))
	mustStart(t, r, plain)
	if err := r.Resize(ctx, plain, 30, 100); !errors.Is(err, ErrInvalid) {
		t.Errorf("resize without a terminal: %v", err)
	}
}

func TestExecTty(t *testing.T) {
	r := newRuntime(t, false)
	ctx := ctxT(t, 20*time.Second)
	id := mustCreate(t, r, boxSpec(t, "exec-tty", "exec sleep 100"))
	mustStart(t, r, id)
	var out bytes.Buffer
	resize := make(chan [2]uint, 1)
	resize <- [2]uint{12, 34}
	code, err := r.Exec(ctx, id, ExecSpec{
		Args: []string{"sh", "-c", "tty; read l; stty size; echo got:$l; exit 3"},
		Tty:  true, ConsoleSize: [2]uint{10, 20}, Resize: resize,
		Stdin: strings.NewReader("x\n"), Stdout: &out,
	})
	if err != nil || code != 3 {
		t.Fatalf("exec: code %d, err %v, output %q", code, err, out.String())
	}
	// The container's init has no terminal: the exec's is the first pty.
	// The terminal echoes the input whenever it arrives.
	got := strings.Replace(out.String(), "x\r\n", "", 1)
	if want := "/dev/pts/0\r\n12 34\r\ngot:x\r\n"; got != want {
		t.Errorf("output %q, want %q plus the echoed x", out.String(), want)
	}
}

// Every run of a restarted container gets a fresh terminal of the size
// last set.
func TestTtyContainerRestarts(t *testing.T) {
	r := newRuntime(t, false)
	s := boxSpec(t, "tty-restart", "tty; stty size; exit 1")
	s.Tty, s.ConsoleSize = true, [2]uint{24, 80}
	s.RestartPolicy = RestartPolicy{Name: RestartOnFailure, MaxRetries: 2}
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	eventually(t, "three runs", func() bool {
		c, err := r.Inspect(id)
		return err == nil && c.State.Status == StateExited && c.State.RestartCount == 2
	})
	out, _ := rawLog(t, r, id)
	if want := strings.Repeat("/dev/pts/0\r\n24 80\r\n", 3); out != want {
		t.Errorf("log %q, want %q", out, want)
	}
}
