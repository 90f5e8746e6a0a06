package bench

import (
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// served is our daemon serving a state root of its own, and the CLI
// talking to it (-H), as the docker CLI talks to dockerd.
type served struct{ sock string }

// newServed starts `reconciler daemon` on a fresh state root holding the
// busybox image, and stops it when the benchmark ends.
func newServed(b *testing.B, tarball string) *served {
	b.Helper()
	o := newOurs(b, tarball)
	s := &served{sock: filepath.Join(b.TempDir(), "d.sock")}
	d := exec.Command(reconcilerBin, "--root", o.root, "daemon", "-H", "unix://"+s.sock, "--metrics-addr", "")
	if err := d.Start(); err != nil {
		b.Fatal(err)
	}
	// Registered after newOurs's cleanup, so it runs first: the daemon is
	// gone before the containers left are removed without it.
	b.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			d.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", s.sock); err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			b.Fatal("the daemon did not listen within 10 s")
		}
	}
}

func (s *served) cmd(args ...string) *exec.Cmd {
	return exec.Command(reconcilerBin, append([]string{"-H", "unix://" + s.sock}, args...)...)
}

func (s *served) must(b *testing.B, args ...string) {
	b.Helper()
	if out, err := s.cmd(args...).CombinedOutput(); err != nil {
		b.Fatalf("reconciler -H %s: %v\n%s", s.sock, err, out)
	}
}
