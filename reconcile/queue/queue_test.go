package queue

import (
	"context"
	"testing"
	"time"
)

func TestDeduplicates(t *testing.T) {
	q := New[string](Options{})
	q.Add("a")
	q.Add("a")
	q.Add("b")
	if q.Len() != 2 {
		t.Fatalf("len %d, want 2", q.Len())
	}
	ctx := context.Background()
	k, _ := q.Get(ctx)
	if k != "a" {
		t.Fatalf("got %q", k)
	}
	// Re-added while processing: not handed out twice, back after Done.
	q.Add("a")
	k2, _ := q.Get(ctx)
	if k2 != "b" {
		t.Fatalf("got %q, want b while a is processing", k2)
	}
	if q.Len() != 0 {
		t.Fatalf("a handed out while processing")
	}
	q.Done("a")
	if q.Len() != 1 {
		t.Fatalf("a not back after Done")
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	q := New[string](Options{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond})
	var got []time.Duration
	for i := 0; i < 5; i++ {
		got = append(got, q.AddRateLimited("k"))
	}
	want := []time.Duration{1, 2, 4, 4, 4}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v", got)
		}
	}
	q.Forget("k")
	if d := q.AddRateLimited("k"); d != time.Millisecond {
		t.Fatalf("after Forget: %v", d)
	}
}

func TestAddAfterAndShutdown(t *testing.T) {
	q := New[int](Options{})
	q.AddAfter(1, 20*time.Millisecond)
	q.AddAfter(1, 10*time.Millisecond) // earlier wins
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	k, ok := q.Get(ctx)
	if !ok || k != 1 {
		t.Fatalf("get %v %v", k, ok)
	}
	if el := time.Since(start); el < 10*time.Millisecond {
		t.Fatalf("delayed key due after %v", el)
	}
	q.Done(1)
	if !q.Idle() {
		// the 20ms add may still be pending; wait it out
		k, _ = q.Get(ctx)
		q.Done(k)
	}
	go q.ShutDown()
	if _, ok := q.Get(context.Background()); ok {
		t.Fatal("Get after shutdown returned a key")
	}
}

func TestGetHonoursContext(t *testing.T) {
	q := New[int](Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, ok := q.Get(ctx); ok {
		t.Fatal("got a key from an empty queue")
	}
}
