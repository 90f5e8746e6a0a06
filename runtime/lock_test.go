package runtime

import (
	"sync"
	"testing"
)

// TestLockIsExclusiveAndForgotten checks that lock serializes the callers
// of one ID, not of two, and keeps nothing once the last caller is out.
func TestLockIsExclusiveAndForgotten(t *testing.T) {
	r := &Runtime{locks: map[string]*idLock{}}
	var wg sync.WaitGroup
	inside := map[string]int{}
	var mu sync.Mutex
	for i := 0; i < 200; i++ {
		id := []string{"a", "b"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := r.lock(id)
			mu.Lock()
			inside[id]++
			if inside[id] > 1 {
				t.Errorf("two callers inside %s's lock", id)
			}
			mu.Unlock()
			mu.Lock()
			inside[id]--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if len(r.locks) != 0 {
		t.Errorf("%d locks kept after every caller left", len(r.locks))
	}
}
