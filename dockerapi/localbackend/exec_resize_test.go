package localbackend

import (
	"context"
	"testing"
)

// A Tty exec started without a size takes the client's first resize as
// its terminal's size before the program runs; without one it starts
// with none (0x0) once the wait is over or the request is gone.
func TestFirstResize(t *testing.T) {
	resize := make(chan [2]uint, 1)
	resize <- [2]uint{40, 100}
	if got := firstResize(context.Background(), resize); got != [2]uint{40, 100} {
		t.Errorf("firstResize with a pending size = %v, want [40 100]", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := firstResize(ctx, resize); got != [2]uint{} {
		t.Errorf("firstResize after the request ended = %v, want [0 0]", got)
	}
	if got := firstResize(context.Background(), resize); got != [2]uint{} {
		t.Errorf("firstResize without a size = %v, want [0 0]", got)
	}
}
