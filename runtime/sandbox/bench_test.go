package sandbox

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// BenchmarkStartTrue measures create+start+exit of /bin/true on a busybox
// overlay root: fresh container-layer directories, Start, Wait, Cleanup.
// start-ms/op is Start alone: create to the exec of the program (its first
// instruction follows within microseconds); wait-ms/op is the program's
// exit and the teardown of its namespaces; cleanup-ms/op is Cleanup.
func BenchmarkStartTrue(b *testing.B) {
	needRoot(b)
	prepareBench(b)
	dir := b.TempDir()
	var start, wait, cleanup time.Duration
	starts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		cfg := layerConfig(b, filepath.Join(dir, strconv.Itoa(i)), "bench-"+strconv.Itoa(i), "/bin/true")
		p, err := Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		start += t1.Sub(t0)
		starts = append(starts, t1.Sub(t0))
		if st, err := p.Wait(); err != nil || st.Code != 0 {
			b.Fatalf("%+v %v", st, err)
		}
		t2 := time.Now()
		wait += t2.Sub(t1)
		if err := Cleanup(cfg); err != nil {
			b.Fatal(err)
		}
		cleanup += time.Since(t2)
	}
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(start), "start-ms/op")
	reportP50(b, starts, "start-p50-ms")
	b.ReportMetric(perOp(wait), "wait-ms/op")
	b.ReportMetric(perOp(cleanup), "cleanup-ms/op")
}

// BenchmarkPrestartedStart measures Pending.Start to the exec of /bin/true
// on an init prestarted 20 ms before (untimed, as a runtime's spare is),
// "staged" when the init knew the RootfsDir ahead and mounted /proc, /dev
// and /sys there while it waited, "unstaged" when it did not. The two
// alternate, so both see the same machine.
func BenchmarkPrestartedStart(b *testing.B) {
	needRoot(b)
	prepareBench(b)
	dir := b.TempDir()
	starts := map[bool][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, staged := range []bool{true, false} {
			b.StopTimer()
			name := strconv.Itoa(i) + strconv.FormatBool(staged)
			cfg := layerConfig(b, filepath.Join(dir, name), "bench-"+name, "/bin/true")
			pc := PrestartConfig{}
			if staged {
				pc.RootfsDir = cfg.RootfsDir
			}
			pending, err := Prestart(pc)
			if err != nil {
				b.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			b.StartTimer()
			t0 := time.Now()
			p, err := pending.Start(cfg)
			if err != nil {
				b.Fatal(err)
			}
			starts[staged] = append(starts[staged], time.Since(t0))
			b.StopTimer()
			if st, err := p.Wait(); err != nil || st.Code != 0 {
				b.Fatalf("%+v %v", st, err)
			}
			if err := Cleanup(cfg); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	for staged, name := range map[bool]string{true: "staged", false: "unstaged"} {
		reportP50(b, starts[staged], name+"-p50-ms")
	}
}

// prepareBench makes the one-time sealed copy before the timing, of the
// built cmd/reconciler-shim: the built reconciler runs its inits from it
// (the test binary would be five times larger).
func prepareBench(b *testing.B) {
	prepareOnce.Do(func() { UseHelper(testutil.ShimHelper(b)) })
	if err := Prepare(); err != nil {
		b.Fatal(err)
	}
}

var prepareOnce sync.Once

// BenchmarkRuncRunTrue runs `runc run` of /bin/true on a bundle holding a
// copy of the same busybox root, for comparison (skipped without runc).
func BenchmarkRuncRunTrue(b *testing.B) {
	needRoot(b)
	runc, err := exec.LookPath("runc")
	if err != nil {
		b.Skip("runc not installed (Debian package runc)")
	}
	bundle := b.TempDir()
	if err := exec.Command("cp", "-a", busyboxLower, filepath.Join(bundle, "rootfs")).Run(); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v: %s", err, out)
	}
	specPath := filepath.Join(bundle, "config.json")
	raw, _ := os.ReadFile(specPath)
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		b.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"/bin/true"}
	raw, _ = json.Marshal(spec)
	os.WriteFile(specPath, raw, 0o644)
	state := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(runc, "--root", state, "run", "--bundle", bundle, "bench-"+strconv.Itoa(i))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
	}
}
