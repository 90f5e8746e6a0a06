package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFileDropToRunning measures the time from a manifest written
// into the folder `reconciler watch` watches until its container's program
// runs (it opens a FIFO bind-mounted from the host first thing). Beside
// it, docker-run-d is the same container started by `docker run -d`: what
// a watcher built on the docker CLI would pay at the least.
func BenchmarkFileDropToRunning(b *testing.B) {
	tarball := busyboxTar(b)
	o, p := newOurs(b, tarball), newPeer(b, tarball)
	w := o.watch(b)
	var s samples
	drop := func(i int) time.Duration {
		dir, opened := fifo(b)
		name := fmt.Sprintf("drop%03d", i)
		doc := containerDoc(name, []string{"/bin/sh", "-c", "echo > /m/fifo; trap 'exit 0' TERM; sleep 3600 & wait"},
			fmt.Sprintf("  binds: [{hostPath: %s, mountPath: /m}]\n", dir))
		done := make(chan error, 1)
		t0 := time.Now()
		write(b, filepath.Join(o.manifests, name+".yaml"), doc)
		go func() { done <- opened() }()
		if err := waitOpen(done, time.Minute); err != nil {
			b.Fatalf("%s: %v; watch log:\n%s", name, err, w.output())
		}
		return time.Since(t0)
	}
	drop(-1) // the watcher is up once its first file has run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.add("ours", drop(i))
		if p != nil {
			dir, opened := fifo(b)
			c := p.cmd("run", "-d", "--network", "none", "-v", dir+":/m", image, "/bin/sh", "-c", "echo > /m/fifo; sleep 3600")
			s.add("docker-run-d", startUntilOpened(b, c, opened))
			if err := c.Wait(); err != nil {
				b.Fatalf("docker run -d: %v\n%s", err, c.Stdout)
			}
		}
	}
	b.StopTimer()
	s.report(b, "docker-run-d")
}

// watcher is a `reconciler watch` process on o's manifests folder.
type watcher struct {
	cmd *exec.Cmd
	log string // its output file
}

// watch starts `reconciler watch` on o.manifests, stopped (SIGTERM, then
// SIGKILL) when the benchmark ends, before o removes its containers.
func (o *ours) watch(b *testing.B) *watcher {
	w := &watcher{cmd: o.cmd("watch", o.manifests), log: filepath.Join(b.TempDir(), "watch.log")}
	f, err := os.Create(w.log)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w.cmd.Stdout, w.cmd.Stderr = f, f
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { w.cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		w.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			w.cmd.Process.Kill()
			<-exited
		}
	})
	return w
}

func (w *watcher) output() string {
	out, _ := os.ReadFile(w.log)
	return string(out)
}
