package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/sandbox/sandboxtest"
)

// BenchmarkFirstInstruction measures create to the first instruction of
// the container's program: from before Start (fresh container-layer
// directories included) to the clock the program reads first thing.
func BenchmarkFirstInstruction(b *testing.B) {
	needRoot(b)
	if runtime.GOARCH != "amd64" {
		b.Skip("the clock program is x86_64 machine code")
	}
	prepareBench(b)
	layer := b.TempDir()
	if err := os.WriteFile(filepath.Join(layer, "clock"), sandboxtest.ClockProgram(), 0o755); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		t0 := sandboxtest.Monotonic()
		cfg := layerConfig(b, filepath.Join(dir, strconv.Itoa(i)), "first-"+strconv.Itoa(i), "/clock")
		cfg.LowerDirs = append(cfg.LowerDirs, layer)
		cfg.Stdout = &out
		p, err := Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if st, err := p.Wait(); err != nil || st.Code != 0 || out.Len() != 16 {
			b.Fatalf("%+v %v %d bytes", st, err, out.Len())
		}
		Cleanup(cfg)
		at, _ := sandboxtest.ParseClock(out.Bytes())
		lat = append(lat, at-t0)
	}
	b.StopTimer()
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(lat)), "first-insn-ms/op")
	reportP50(b, lat, "first-insn-p50-ms")
}

// TestClockProgram checks the hand-made ELF the benchmark relies on.
func TestClockProgram(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86_64 machine code")
	}
	cfg, out := testConfig(t, "/clock")
	layer := t.TempDir()
	os.WriteFile(filepath.Join(layer, "clock"), sandboxtest.ClockProgram(), 0o755)
	cfg.LowerDirs = append(cfg.LowerDirs, layer)
	cfg.Stderr = nil
	t0 := sandboxtest.Monotonic()
	if st := runContainer(t, cfg); st.Code != 0 || out.Len() != 16 {
		t.Fatalf("exit %+v, %d bytes", st, out.Len())
	}
	at, _ := sandboxtest.ParseClock(out.Bytes())
	if d := at - t0; d <= 0 || d > time.Minute {
		t.Fatalf("program read the clock %v after the start", d)
	}
}
