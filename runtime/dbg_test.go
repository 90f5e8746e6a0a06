package runtime

import (
	"context"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDbgTiming(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	spec := Spec{LowerDirs: []string{busybox(t)}, Args: []string{"/bin/true"}}
	for i := 0; i < 6; i++ {
		t0 := time.Now()
		id, _ := r.Create(ctx, spec)
		t1 := time.Now()
		r.Start(ctx, id)
		t2 := time.Now()
		r.Wait(ctx, id, WaitNotRunning)
		t3 := time.Now()
		b, _ := os.ReadFile(filepath.Join(r.dir(id), shim.ShimLogFile))
		r.Remove(ctx, id, false)
		t4 := time.Now()
		t.Logf("t0=%d create %v start %v wait %v remove %v\n%s", t0.UnixMicro(), t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), b)
	}
}
