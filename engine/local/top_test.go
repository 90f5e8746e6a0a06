package local

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePS(t *testing.T) {
	out := "UID  PID  PPID CMD\n" +
		"root 10   1    sleep 300\n" +
		"root -    -    -\n" + // a thread of 10 (ps -m)
		"root 11   1    other  thing\n" +
		"root -    -    -\n" + // a thread of 11: not ours
		"root 12   10   sh -c x\n"
	top, err := parsePS([]byte(out), []int{10, 12})
	if err != nil {
		t.Fatal(err)
	}
	want := Top{Titles: []string{"UID", "PID", "PPID", "CMD"}, Processes: [][]string{
		{"root", "10", "1", "sleep 300"}, {"root", "-", "-", "-"}, {"root", "12", "10", "sh -c x"},
	}}
	if !reflect.DeepEqual(top, want) {
		t.Errorf("got %q\nwant %q", top, want)
	}
	if _, err := parsePS([]byte("UID CMD\nroot x\n"), nil); err == nil || !strings.Contains(err.Error(), "no PID column") {
		t.Errorf("no PID column: %v", err)
	}
	if top, err := parsePS([]byte("PID CMD\n"), []int{1}); err != nil || len(top.Processes) != 0 || top.Processes == nil {
		t.Errorf("no rows: %q, %v (want an empty, non-nil list)", top.Processes, err)
	}
}

// A ps that refuses its options is reported with its own first line.
func TestRunPSError(t *testing.T) {
	_, err := runPS(context.Background(), []string{"--no-such-option"})
	var ee interface{ ExitCode() int }
	if err == nil || !strings.HasPrefix(err.Error(), "ps: ") || strings.Contains(err.Error(), "\n") || errors.As(err, &ee) {
		t.Errorf("runPS --no-such-option: %v", err)
	}
}
