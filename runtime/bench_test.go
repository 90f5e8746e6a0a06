package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testpeer"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// BenchmarkCreateStartExitTrue is `docker run --rm busybox true`: create,
// start, wait for the exit, remove, on a busybox image, one container
// right after the other (each start takes the shim the previous container
// freed: see spare.go). Its layer is durable, as docker's are (see
// BenchmarkExitWhileHostWrites for a volatile one). to-exit-ms is the mean
// up to the exit, without the remove.
func BenchmarkCreateStartExitTrue(b *testing.B) { createStartExitTrue(b, 0, false) }

// BenchmarkCreateStartExitTrueWarm is BenchmarkCreateStartExitTrue with a
// pause of 50 ms (untimed) after each container, as between two commands
// a user or a script runs: the spare shim is ready when the next create
// comes.
func BenchmarkCreateStartExitTrueWarm(b *testing.B) {
	createStartExitTrue(b, 50*time.Millisecond, false)
}

// BenchmarkExitWhileHostWrites is BenchmarkCreateStartExitTrueWarm while
// another writer on the host fills the state root's file system at about
// 50 MB/s without syncing (a build, a database, a log): "durable" is a
// container layer as docker makes every one, whose unmount at the
// container's exit syncs that whole file system; "volatile" is ours for
// --rm, which skips that sync. (Without the writer, on this host's ext4
// without a journal, back-to-back volatile containers are slower than
// durable ones: the metadata the unmount would have written goes out in
// bursts under the next creates, and each mount makes and frees three
// more inodes.)
func BenchmarkExitWhileHostWrites(b *testing.B) {
	for _, volatile := range []bool{false, true} {
		name := map[bool]string{false: "durable", true: "volatile"}[volatile]
		b.Run(name, func(b *testing.B) {
			stop := writeInBackground(b, b.TempDir(), 1<<20, 20*time.Millisecond)
			defer stop()
			createStartExitTrue(b, 50*time.Millisecond, volatile)
		})
	}
}

// writeInBackground writes chunk bytes into a file in dir every period,
// over and over the first 64 MiB, never syncing, until stop is called.
func writeInBackground(b *testing.B, dir string, chunk int, period time.Duration) (stop func()) {
	f, err := os.Create(filepath.Join(dir, "background-writes"))
	if err != nil {
		b.Fatal(err)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		data := make([]byte, chunk)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for off := int64(0); ; off = (off + int64(chunk)) % (64 << 20) {
			if _, err := f.WriteAt(data, off); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		f.Close()
	}
}

func createStartExitTrue(b *testing.B, pause time.Duration, volatile bool) {
	withShimHelper(b)
	r := newRuntime(b, false)
	ctx := context.Background()
	spec := Spec{LowerDirs: []string{busybox(b)}, Args: []string{"/bin/true"}, Volatile: volatile}
	// Each step's mean is reported too (create-ms, start-ms, ...): where
	// the time goes; and the medians of the whole, which resist the
	// outliers of a busy machine.
	var steps [4]time.Duration
	var toExit, all []time.Duration
	step := func(i int, f func() error) {
		begin := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		steps[i] += time.Since(begin)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var id string
		before := steps
		step(0, func() (err error) { id, err = r.Create(ctx, spec); return err })
		step(1, func() error { return r.Start(ctx, id) })
		step(2, func() error {
			if code, err := r.Wait(ctx, id, WaitNotRunning); err != nil || code != 0 {
				return fmt.Errorf("wait: %d %v", code, err)
			}
			return nil
		})
		step(3, func() error { return r.Remove(ctx, id, false) })
		toExit = append(toExit, steps[0]+steps[1]+steps[2]-before[0]-before[1]-before[2])
		all = append(all, toExit[i]+steps[3]-before[3])
		if pause > 0 {
			b.StopTimer()
			time.Sleep(pause)
			b.StartTimer()
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for i, name := range []string{"create", "start", "wait", "remove"} {
		b.ReportMetric(ms(steps[i])/float64(b.N), name+"-ms")
	}
	b.ReportMetric(ms(steps[0]+steps[1]+steps[2])/float64(b.N), "to-exit-ms")
	slices.Sort(toExit)
	b.ReportMetric(ms(toExit[len(toExit)/2]), "to-exit-p50-ms")
	reportMedian(b, all)
}

// withShimHelper seals the built cmd/reconciler-shim in before the first
// benchmark's runtime starts anything: the built reconciler runs its
// shims and inits from it (the test binary would be five times larger).
func withShimHelper(b *testing.B) {
	shimHelperOnce.Do(func() {
		sandbox.UseHelper(testutil.ShimHelper(b))
		if err := sandbox.Prepare(); err != nil {
			b.Fatal(err)
		}
	})
}

var shimHelperOnce sync.Once

// fifoProbe makes a FIFO in a fresh directory: the container opens it for
// writing as its first action, which the benchmark observes by opening it
// for reading.
func fifoProbe(b *testing.B) (dir string, opened func() error) {
	dir = b.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o666); err != nil {
		b.Fatal(err)
	}
	return dir, func() error {
		f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
		if err == nil {
			f.Close()
		}
		return err
	}
}

// BenchmarkTimeToFirstInstruction measures from Create until the
// container's program runs (its first open of a bind-mounted FIFO), one
// container right after the other: each start takes the shim the previous
// container freed (see spare.go).
func BenchmarkTimeToFirstInstruction(b *testing.B) { timeToFirstInstruction(b, 0) }

// BenchmarkTimeToFirstInstructionWarm is BenchmarkTimeToFirstInstruction
// on a warm runtime: at least 50 ms (untimed) after the previous
// container, its spare shim (and init, where there is one) is up, as for
// any start that does not follow another within a few milliseconds.
// Between two of ours, each 50 ms apart from it, `runc run` does the same
// (runc-p50-ms), so both are measured under the same conditions.
func BenchmarkTimeToFirstInstructionWarm(b *testing.B) {
	timeToFirstInstruction(b, 50*time.Millisecond)
}

func timeToFirstInstruction(b *testing.B, settle time.Duration) {
	var runc func(i int) time.Duration
	var runcTook []time.Duration
	if settle > 0 {
		runc = runcFirstInstruction(b)
	}
	withShimHelper(b)
	r := newRuntime(b, false)
	ctx := context.Background()
	dir, opened := fifoProbe(b)
	spec := Spec{LowerDirs: []string{busybox(b)}, Args: []string{"/bin/busybox", "tee", "/m/fifo"},
		Mounts: []Mount{{Type: MountBind, Source: dir, Target: "/m"}}}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		begin := time.Now()
		id, err := r.Create(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- opened() }()
		if err := r.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(begin))
		b.StopTimer()
		r.Wait(ctx, id, WaitNotRunning)
		r.Remove(ctx, id, true)
		time.Sleep(settle)
		if runc != nil {
			// Once our background work (the spare's start) is done,
			// and as long before the next container of ours.
			runcTook = append(runcTook, runc(i))
			time.Sleep(settle)
		}
		b.StartTimer()
	}
	reportLatency(b, took)
	if len(runcTook) > 0 {
		slices.Sort(runcTook)
		b.ReportMetric(float64(runcTook[len(runcTook)/2].Microseconds())/1000, "runc-p50-ms")
	}
}

// runcBundle writes an OCI bundle for runc on the busybox image.
func runcBundle(b *testing.B, args []string, mounts ...map[string]any) string {
	if _, err := exec.LookPath("runc"); err != nil {
		b.Skip("needs runc (Debian package runc)")
	}
	bundle := b.TempDir()
	if out, err := exec.Command("runc", "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v: %s", err, out)
	}
	var spec map[string]any
	raw, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	json.Unmarshal(raw, &spec)
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = args
	spec["root"] = map[string]any{"path": busybox(b), "readonly": true}
	for _, m := range mounts {
		spec["mounts"] = append(spec["mounts"].([]any), m)
	}
	raw, _ = json.Marshal(spec)
	os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o644)
	return bundle
}

func runcRun(b *testing.B, bundle string, i int) *exec.Cmd {
	cmd := exec.Command("runc", "--root", filepath.Join(bundle, "state"), "run", "--bundle", bundle, fmt.Sprintf("bench-%d-%d", os.Getpid(), i))
	return cmd
}

// BenchmarkRuncRunTrue is the same as BenchmarkCreateStartExitTrue with
// `runc run` (read-only busybox root, no overlay), for comparison.
func BenchmarkRuncRunTrue(b *testing.B) {
	testutil.NeedRoot(b, "shims, mounts, namespaces and cgroups")
	bundle := runcBundle(b, []string{"/bin/true"})
	b.ResetTimer()
	took := timeEach(b, func(i int) {
		if out, err := runcRun(b, bundle, i).CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
	})
	reportMedian(b, took)
}

// timeEach runs f b.N times and returns how long each took.
func timeEach(b *testing.B, f func(i int)) []time.Duration {
	took := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		begin := time.Now()
		f(i)
		took = append(took, time.Since(begin))
	}
	return took
}

// reportMedian reports p50-ms, the median, which resists the outliers of
// a busy machine (other guests' steal on a VM) better than ns/op.
func reportMedian(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkRuncTimeToFirstInstruction is BenchmarkTimeToFirstInstruction
// with `runc run`.
func BenchmarkRuncTimeToFirstInstruction(b *testing.B) {
	testutil.NeedRoot(b, "shims, mounts, namespaces and cgroups")
	run := runcFirstInstruction(b)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		took = append(took, run(i))
	}
	reportLatency(b, took)
}

// runcFirstInstruction returns a function that runs the i-th container
// with `runc run`, waits for it and returns the time until its program
// opened the FIFO; it skips b without runc.
func runcFirstInstruction(b *testing.B) func(i int) time.Duration {
	dir, opened := fifoProbe(b)
	bundle := runcBundle(b, []string{"/bin/busybox", "tee", "/m/fifo"},
		map[string]any{"destination": "/m", "type": "bind", "source": dir, "options": []string{"rbind", "rw"}})
	return func(i int) time.Duration {
		begin := time.Now()
		cmd := runcRun(b, bundle, i)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if err := opened(); err != nil {
			b.Fatal(err)
		}
		took := time.Since(begin)
		cmd.Wait()
		return took
	}
}

// BenchmarkDockerRunTrue is `docker run --rm --network none IMAGE
// /bin/true` against an isolated dockerd (Debian's docker.io) on the same
// busybox root file system, imported as an image, for comparison.
func BenchmarkDockerRunTrue(b *testing.B) {
	testutil.NeedRoot(b, "shims, mounts, namespaces and cgroups")
	lower := busybox(b)
	_, d := testpeer.StartDockerd(b)
	ctx := context.Background()
	tarball := filepath.Join(b.TempDir(), "busybox.tar")
	if out, err := exec.Command("tar", "-C", lower, "-cf", tarball, ".").CombinedOutput(); err != nil {
		b.Fatalf("tar: %v: %s", err, out)
	}
	if _, err := d.Docker(ctx, "import", tarball, "bench-busybox:latest"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	took := timeEach(b, func(int) {
		if _, err := d.Docker(ctx, "run", "--rm", "--network", "none", "bench-busybox", "/bin/true"); err != nil {
			b.Fatal(err)
		}
	})
	reportMedian(b, took)
}

// reportLatency reports the mean, median and minimum: on a busy machine
// the minimum shows what the path itself costs.
func reportLatency(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	var total time.Duration
	for _, d := range took {
		total += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(total)/float64(len(took)), "ms/first-instruction")
	reportMedian(b, took)
	b.ReportMetric(ms(took[0]), "min-ms")
}
