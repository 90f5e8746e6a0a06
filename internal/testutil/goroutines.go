package testutil

import (
	"context"
	"sync"
	"testing"
)

// Go runs each fn in its own goroutine (a controller, a watcher) until the
// test ends: then their context is cancelled and the test waits for every
// fn to return, so none outlives it. Their errors are not checked (a
// cancelled loop returns one). The context is returned for calls made
// meanwhile.
func Go(t testing.TB, fns ...func(ctx context.Context) error) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { fn(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx
}
