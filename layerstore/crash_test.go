package layerstore

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// A layer being unpacked is invisible until complete, and a failed import
// leaves nothing behind.
func TestNoHalfLayerVisible(t *testing.T) {
	s := openStore(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.AddLayer(context.Background(), "", pr, "")
		done <- err
	}()
	tw := tar.NewWriter(pw)
	tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o644, Size: 1 << 20})
	tw.Write(make([]byte, 512<<10)) // half of the file
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 0 {
		t.Fatalf("%d layer dirs visible mid-import", n)
	}
	if l, _ := s.List(); len(l) != 0 {
		t.Fatal("image visible mid-import")
	}
	pw.CloseWithError(errors.New("connection reset"))
	if err := <-done; err == nil {
		t.Fatal("interrupted import succeeded")
	}
	if n := countDir(t, filepath.Join(s.Root(), "layers")); n != 0 {
		t.Fatalf("%d layer dirs after a failed import", n)
	}
	if n := countDir(t, filepath.Join(s.Root(), "tmp")); n != 0 {
		t.Fatalf("tmp/ holds %d entries after a failed import", n)
	}
}

// A process killed (SIGKILL) in the middle of an import leaves no layer,
// and the next Open removes what it left in tmp/.
func TestCrashMidImport(t *testing.T) {
	if root := os.Getenv("LAYERSTORE_CRASH_ROOT"); root != "" {
		// The child: import stdin until killed.
		s, err := Open(root)
		if err != nil {
			os.Exit(3)
		}
		s.AddLayer(context.Background(), "", os.Stdin, "")
		os.Exit(0)
	}
	testutil.NeedRoot(t, "layers keep ownership, whiteouts are device nodes")
	root := filepath.Join(t.TempDir(), "images")
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidImport$")
	cmd.Env = append(os.Environ(), "LAYERSTORE_CRASH_ROOT="+root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := make([]byte, 1<<20)
	rand.Read(data)
	tw.WriteHeader(&tar.Header{Name: "done", Mode: 0o644, Size: int64(len(data))})
	tw.Write(data)
	tw.WriteHeader(&tar.Header{Name: "half", Mode: 0o644, Size: 4 << 20})
	stdin.Write(buf.Bytes())
	stdin.Write(data) // a quarter of "half"

	// Wait until the child has unpacked "done", then kill it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(root, "tmp", "layer-*", "diff", "done"))
		if len(m) == 1 {
			if fi, err := os.Stat(m[0]); err == nil && fi.Size() == int64(len(data)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("child never got to unpacking")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	if n := countDir(t, filepath.Join(root, "layers")); n != 0 {
		t.Fatalf("a killed import left %d layer dirs", n)
	}
	if n := countDir(t, filepath.Join(root, "tmp")); n == 0 {
		t.Fatal("expected the killed import's leftovers in tmp/")
	}
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if n := countDir(t, filepath.Join(root, "tmp")); n != 0 {
		t.Fatalf("Open left %d entries in tmp/", n)
	}
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("images after the crash: %v %v", l, err)
	}
}
