package runtime_test

import (
	"context"
	"fmt"
	"os"

	"github.com/reconciler/reconciler/runtime"
)

// The shape of `docker run` without -d over a Runtime: wait and attach
// before start, so neither the exit nor the first line can be missed.
// (Not run: it needs root and an image; main must call reexec.Init.)
func Example() {
	ctx := context.Background()
	rt, err := runtime.New("/var/lib/reconciler/containers", runtime.Options{})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	id, err := rt.Create(ctx, runtime.Spec{
		Name:          "web",
		LowerDirs:     []string{"/var/lib/reconciler/images/layers/base"}, // from layerstore.LowerDirs
		Args:          []string{"/bin/sh", "-c", "echo hello"},
		RestartPolicy: runtime.RestartPolicy{Name: runtime.RestartNo},
	})
	if err != nil {
		panic(err)
	}
	exited := make(chan int, 1)
	go func() {
		code, _ := rt.Wait(ctx, id, runtime.WaitNextExit)
		exited <- code
	}()
	out, err := rt.Attach(ctx, id)
	if err != nil {
		panic(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		out.Close()
		panic(err)
	}
	out.CopyTo(os.Stdout, os.Stderr, false)
	fmt.Println("exit code", <-exited)
	rt.Remove(ctx, id, false)
}
