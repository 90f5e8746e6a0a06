package rootlock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestLockHeldByAnotherProcess re-executes the test binary as a holder:
// the refusal names the holder's PID, and the lock frees when it dies.
func TestLockHeldByAnotherProcess(t *testing.T) {
	if root := os.Getenv("ROOTLOCK_HOLD"); root != "" {
		if _, err := Acquire(root); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "ROOTLOCK_HOLD="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("holder said %q", line)
	}
	_, err = Acquire(root)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("Acquire while another process holds it: %v (holder %d)", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(root)
	if err != nil {
		t.Fatalf("lock not freed by the holder's death: %v", err)
	}
	l.Release()
}
