package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testpeer"
	"github.com/reconciler/reconciler/runtime/sandbox/sandboxtest"
)

// reconcilerBin is the binary under test: $RECONCILER_BIN, or one built
// from this tree by TestMain.
var reconcilerBin string

func TestMain(m *testing.M) {
	reconcilerBin = os.Getenv("RECONCILER_BIN")
	cleanup := func() {}
	if reconcilerBin == "" {
		dir, err := os.MkdirTemp("", "bench-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cleanup = func() { os.RemoveAll(dir) }
		reconcilerBin = filepath.Join(dir, "reconciler")
		// With its helper beside it, as make builds them.
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir+"/", "github.com/reconciler/reconciler/cmd/reconciler", "github.com/reconciler/reconciler/cmd/reconciler-shim")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build reconciler: %v\n%s", err, out)
			cleanup()
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// image is the tag both engines know the busybox image by.
const image = "bench-busybox:1"

// sleeper is a long-running container command that exits at once on
// SIGTERM, so neither engine waits out a stop grace period.
var sleeper = []string{"/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}

// busyboxTar writes the busybox root file system of the container tests
// (Debian's busybox-static) as a plain rootfs tarball.
func busyboxTar(b *testing.B) string {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: overlay mounts, namespaces and shims")
	}
	if _, err := os.Stat(sandboxtest.Busybox); err != nil {
		b.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	dir := b.TempDir()
	root := filepath.Join(dir, "rootfs")
	if err := sandboxtest.BuildBusybox(root); err != nil {
		b.Fatal(err)
	}
	tarball := filepath.Join(dir, "busybox.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		b.Fatalf("tar: %v: %s", err, out)
	}
	return tarball
}

// ours is the reconciler binary on a temporary state root.
type ours struct {
	root      string
	manifests string // folder holding image.yaml, the Image object for `image`
}

// newOurs makes a state root with the busybox image applied from a
// manifest (so manifests in the same folder may use it), and removes
// every container left when the benchmark ends, so no shim outlives it.
func newOurs(b *testing.B, tarball string) *ours {
	b.Helper()
	o := &ours{root: b.TempDir(), manifests: b.TempDir()}
	doc := fmt.Sprintf("apiVersion: reconciler/v1\nkind: Image\nmetadata: {name: bench-busybox}\nspec:\n  tag: %s\n  import: {path: %s}\n", image, tarball)
	write(b, filepath.Join(o.manifests, "image.yaml"), doc)
	o.must(b, "apply", "-f", filepath.Join(o.manifests, "image.yaml"))
	b.Cleanup(func() { o.removeAll(b) })
	return o
}

func (o *ours) cmd(args ...string) *exec.Cmd {
	return exec.Command(reconcilerBin, append([]string{"--root", o.root}, args...)...)
}

func (o *ours) must(b *testing.B, args ...string) string {
	b.Helper()
	out, err := o.cmd(args...).CombinedOutput()
	if err != nil {
		b.Fatalf("reconciler %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// removeAll force-removes every container of the state root.
func (o *ours) removeAll(b *testing.B) {
	ids := strings.Fields(o.must(b, "ps", "-aq"))
	if len(ids) > 0 {
		o.must(b, append([]string{"rm", "-f"}, ids...)...)
	}
}

// peer is an isolated dockerd with the same busybox image imported, or
// nil when docker is not installed (the benchmark then measures ours only).
type peer struct{ d *testpeer.Dockerd }

func newPeer(b *testing.B, tarball string) *peer {
	b.Helper()
	for _, bin := range []string{"dockerd", "docker"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Logf("peer not installed: %s (Debian package docker.io); measuring ours only", bin)
			return nil
		}
	}
	_, d := testpeer.StartDockerd(b)
	p := &peer{d: d}
	p.must(b, "import", tarball, image)
	// Before dockerd stops: containerd's shims outlive a dockerd killed
	// while it still has containers to stop.
	b.Cleanup(func() { p.removeAll(b) })
	return p
}

func (p *peer) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command("docker", append([]string{"-H", p.d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(p.d.Dir, "client"))
	return cmd
}

func (p *peer) must(b *testing.B, args ...string) string {
	b.Helper()
	out, err := p.d.Docker(context.Background(), args...)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// removeAll force-removes every container of the peer, eight `docker rm`
// at a time: one `docker rm -f` of a thousand containers takes over ten
// minutes on a busy 2-core machine.
func (p *peer) removeAll(b *testing.B) {
	ids := strings.Fields(p.must(b, "ps", "-aq"))
	const width = 8
	var wg sync.WaitGroup
	errs := make([]error, width)
	for w := 0; w < width; w++ {
		var mine []string
		for i := w; i < len(ids); i += width {
			mine = append(mine, ids[i])
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[w] = p.d.Docker(context.Background(), append([]string{"rm", "-f"}, mine...)...)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	t0 := time.Now()
	f()
	return time.Since(t0)
}

// samples collects durations by name and reports their medians, which
// resist the outliers of a busy machine, in milliseconds.
type samples struct {
	mu sync.Mutex
	m  map[string][]time.Duration
}

func (s *samples) add(name string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]time.Duration{}
	}
	s.m[name] = append(s.m[name], d)
}

func (s *samples) median(name string) (float64, bool) {
	d := slices.Clone(s.m[name])
	if len(d) == 0 {
		return 0, false
	}
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000, true
}

// report reports the median of every series as NAME-ms (ours also as
// ns/op), and for each peer series the ratio of its median to ours as
// ratio-vs-NAME.
func (s *samples) report(b *testing.B, peers ...string) {
	o, ok := s.median("ours")
	if !ok {
		return
	}
	b.ReportMetric(o, "ours-ms")
	b.ReportMetric(o*1e6, "ns/op") // ns/op tracks ours alone, for benchstat
	for _, p := range peers {
		if v, ok := s.median(p); ok {
			b.ReportMetric(v, p+"-ms")
			b.ReportMetric(v/o, "ratio-vs-"+p)
		}
	}
}

// reportAlso reports the median of more of our own series, as NAME-ms.
func (s *samples) reportAlso(b *testing.B, names ...string) {
	for _, n := range names {
		if v, ok := s.median(n); ok {
			b.ReportMetric(v, n+"-ms")
		}
	}
}

// fifo makes a FIFO in a fresh folder; the container opens it for writing
// as its first action, which opened observes by opening it for reading.
func fifo(b *testing.B) (dir string, opened func() error) {
	dir, err := os.MkdirTemp(b.TempDir(), "m")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(path, 0o666); err != nil {
		b.Fatal(err)
	}
	return dir, func() error {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err == nil {
			f.Close()
		}
		return err
	}
}

func write(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// startUntilOpened starts c and returns the time until opened returns,
// failing if c exits first or a minute passes. c's output is kept in a
// buffer (c.Stdout) for the error message; the caller waits for c.
func startUntilOpened(b *testing.B, c *exec.Cmd, opened func() error) time.Duration {
	b.Helper()
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	done := make(chan error, 1)
	t0 := time.Now()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { done <- opened() }()
	if err := waitOpen(done, time.Minute); err != nil {
		c.Process.Kill()
		c.Wait()
		b.Fatalf("%s: %v\n%s", strings.Join(c.Args, " "), err, out.String())
	}
	return time.Since(t0)
}

// waitOpen waits for the result of opened, at most limit.
func waitOpen(done <-chan error, limit time.Duration) error {
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("the container did not open its FIFO within %v", limit)
	}
}
