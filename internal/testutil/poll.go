package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds or d passes and says whether it held.
// The pause between tries grows from 5ms to 20ms, so a cheap check answers
// at once and an expensive one (a docker CLI call) does not hog the machine.
func WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	pause := 5 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
	return true
}

// Eventually is WaitFor that fails the test, naming what it waited for,
// when d passes; it returns how long cond took to hold.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	if !WaitFor(d, cond) {
		t.Fatalf("not within %v: %s", d, what)
	}
	return time.Since(start)
}
