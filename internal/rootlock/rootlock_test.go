package rootlock

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestSecondHolderRefusedWithPID(t *testing.T) {
	root := t.TempDir()
	l, err := Acquire(root)
	if err != nil {
		t.Fatal(err)
	}
	// flock belongs to the open file description, so a second open in this
	// process conflicts exactly as a second daemon would.
	_, err = Acquire(root)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error does not name the holder's PID: %v", err)
	}
	if pid, err := Holder(root); err != nil || pid != os.Getpid() {
		t.Errorf("Holder = %d, %v; want %d", pid, err, os.Getpid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if pid, _ := Holder(root); pid != 0 {
		t.Errorf("Holder after release = %d, want 0", pid)
	}
	l2, err := Acquire(root)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestHolderWithoutLockFile(t *testing.T) {
	if pid, err := Holder(t.TempDir()); pid != 0 || err != nil {
		t.Fatalf("Holder = %d, %v", pid, err)
	}
}
