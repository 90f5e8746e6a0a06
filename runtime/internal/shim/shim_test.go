package shim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"SIGTERM": unix.SIGTERM, "term": unix.SIGTERM, "KILL": unix.SIGKILL, "10": unix.SIGUSR1} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "SIGNOPE", "0", "99"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) accepted", in)
		}
	}
}

func TestShouldRestart(t *testing.T) {
	cases := []struct {
		p       RestartPolicy
		code, n int
		want    bool
	}{
		{RestartPolicy{Name: RestartNo}, 1, 0, false},
		{RestartPolicy{Name: RestartAlways}, 0, 100, true},
		{RestartPolicy{Name: RestartUnlessStopped}, 0, 0, true},
		{RestartPolicy{Name: RestartOnFailure}, 0, 0, false},
		{RestartPolicy{Name: RestartOnFailure}, 1, 5, true},
		{RestartPolicy{Name: RestartOnFailure, MaxRetries: 2}, 1, 1, true},
		{RestartPolicy{Name: RestartOnFailure, MaxRetries: 2}, 1, 2, false},
	}
	for _, c := range cases {
		if got := c.p.ShouldRestart(c.code, c.n); got != c.want {
			t.Errorf("%+v.ShouldRestart(%d, %d) = %v", c.p, c.code, c.n, got)
		}
	}
	if (RestartPolicy{Name: RestartAlways, MaxRetries: 1}).Validate() == nil {
		t.Errorf("max retries accepted for always")
	}
}

func TestAliveTellsRecycledPIDs(t *testing.T) {
	st, err := ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), st) || Alive(os.Getpid(), st+1) || Alive(0, st) {
		t.Errorf("Alive is wrong about this process or a recycled PID")
	}
}

func TestStateOfANeverStartedContainer(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(dir); err == nil {
		t.Errorf("a directory without config has a state")
	}
	if err := WriteJSON(filepath.Join(dir, ConfigFile), Config{}); err != nil {
		t.Fatal(err)
	}
	if st, err := ReadState(dir); err != nil || st.Status != StateCreated {
		t.Errorf("state = %+v, %v; want created", st, err)
	}
	if err := WriteState(dir, State{Status: StateRunning, Pid: 42}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ReadState(dir); st.Pid != 42 {
		t.Errorf("state round trip: %+v", st)
	}
}

// TestCallWordsAnOlderShimsRefusal: a shim started by an older binary
// answers a request it does not know with its own words; Call tells the
// user what to do instead.
func TestCallWordsAnOlderShimsRefusal(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, SockFile))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var req Request
		json.NewDecoder(c).Decode(&req)
		json.NewEncoder(c).Encode(response{Error: fmt.Sprintf("unknown shim request %q", req.Op)})
	}()
	_, err = Call(context.Background(), dir, Request{Op: "update"})
	if err == nil || !strings.Contains(err.Error(), "cannot update: restart the container") {
		t.Fatalf("Call of an op the shim does not know: %v", err)
	}
}

func TestAssignmentRoundTrip(t *testing.T) {
	held := &Config{Spec: Spec{ID: "abc", Args: []string{"true"}}, EtcFiles: true}
	for _, a := range []Assignment{{Dir: "/var/lib/reconciler/containers/abc", Procs: 2}, {Dir: "/a dir/with spaces", Procs: 1}, {Dir: "/x"}, {Dir: "/held", Procs: 1, Config: held}} {
		var b bytes.Buffer
		if err := a.Write(&b); err != nil {
			t.Fatal(err)
		}
		GoAhead(&b)
		r := bufio.NewReader(&b)
		got, err := readAssignment(r)
		if err != nil || !cmp.Equal(got, a) {
			t.Errorf("readAssignment of %+v = %+v, %v", a, got, err)
		}
		if err := awaitGo(r); err != nil {
			t.Errorf("after %+v: the go line reads as %v", a, err)
		}
	}
	var b bytes.Buffer
	CallOff(&b)
	if err := awaitGo(bufio.NewReader(&b)); err != errHoldAborted {
		t.Errorf("a called-off hold reads as %v", err)
	}
	if err := awaitGo(bufio.NewReader(&b)); err != errHoldAborted {
		t.Errorf("EOF reads as %v, want the hold aborted", err)
	}
}
