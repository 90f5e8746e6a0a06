package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine/fake"
	"github.com/reconciler/reconciler/spec"
)

// containers declares n containers of one pulled image.
func containers(b *testing.B, n int) []spec.Object {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "---\napiVersion: reconciler/v1\nkind: Container\nmetadata: {name: c%04d}\nspec:\n  image: docker.io/library/busybox:1.36\n  env: [{name: IDX, value: \"%d\"}]\n", i, i)
	}
	objs, err := spec.Decode("/bench/app.yaml", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return objs
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConverge measures a fresh apply of n containers on the fake
// engine: the controller's own cost, without a runtime behind it.
func BenchmarkConverge(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			objs := containers(b, n)
			cpu := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := fake.New()
				e.AddImage("docker.io/library/busybox:1.36")
				c, _ := newController(b, e, Options{})
				st, err := c.ApplyOnce(context.Background(), objs, nil)
				if err != nil || len(st) != n {
					b.Fatalf("apply: %v", err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkNoopResync measures the periodic comparison of 1000 converged
// containers with their declarations: it must find nothing to do, cheaply.
func BenchmarkNoopResync(b *testing.B) {
	objs := containers(b, 1000)
	e := fake.New()
	e.AddImage("docker.io/library/busybox:1.36")
	c, _ := newController(b, e, Options{})
	if _, err := c.ApplyOnce(context.Background(), objs, nil); err != nil {
		b.Fatal(err)
	}
	e.ResetCalls()
	ctx := context.Background()
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Resync(ctx)
		if c.queue.Len() != 0 {
			b.Fatalf("a converged resync queued %d keys", c.queue.Len())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	if e.Mutations() != 0 {
		b.Fatalf("no-op resync changed the engine: %v", e.Calls())
	}
}

// BenchmarkFileDropToRunning measures the time from a manifest written
// into a watched folder to its container running (on the fake engine:
// watcher debounce plus controller).
func BenchmarkFileDropToRunning(b *testing.B) {
	dir := b.TempDir()
	e := fake.New()
	e.AddImage("docker.io/library/busybox:1.36")
	watchFolder(b, e, dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("drop%d", i)
		doc := fmt.Sprintf("apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: %s}\nspec: {image: docker.io/library/busybox:1.36}\n", name)
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
		for !running(e, name) {
			time.Sleep(time.Millisecond)
		}
	}
}
