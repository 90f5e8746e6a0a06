package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Top is docker top's table: ps's column titles and one row of fields
// per process of a container.
type Top struct {
	Titles    []string
	Processes [][]string
}

// ContainerTop lists a running container's processes as dockerd does: ps
// runs on the host with psArgs ("" means -ef) and only the rows whose PID
// is in the container's cgroup are kept. A ps that refuses its arguments
// fails with the first line it printed on stderr.
func (e *Engine) ContainerTop(ctx context.Context, ref, psArgs string) (Top, error) {
	args := strings.Fields(psArgs)
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	pids, err := e.containers.Pids(ref)
	if err != nil {
		return Top{}, WrapError(err)
	}
	// ps -q lists only pids; some options (f, for one) refuse it: all
	// processes then, filtered below in any case.
	out, err := runPS(ctx, append(args, pidsArg(pids)))
	if err != nil {
		if out, err = runPS(ctx, args); err != nil {
			return Top{}, err
		}
	}
	return parsePS(out, pids)
}

// runPS runs ps with args; its error is ps's first line of stderr.
func runPS(ctx context.Context, args []string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "ps", args...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if line, _, _ := bytes.Cut(ee.Stderr, []byte("\n")); len(line) > 0 {
			err = errors.New(string(line))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ps: %w", err)
	}
	return out, nil
}

// pidsArg is ps's option selecting pids (-q1,2,3).
func pidsArg(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return "-q" + strings.Join(s, ",")
}

// parsePS keeps the rows of ps's output whose PID is in pids, and the
// thread rows ("-" as PID, with ps -m) that follow a kept row. The last
// column takes the rest of the line (a command with spaces).
func parsePS(out []byte, pids []int) (Top, error) {
	lines := strings.Split(string(out), "\n")
	top := Top{Titles: fieldsASCII(lines[0]), Processes: [][]string{}}
	pidCol := slices.Index(top.Titles, "PID")
	if pidCol < 0 {
		return Top{}, errors.New("ps: no PID column in its output: add pid to -o")
	}
	kept := false
	for _, line := range lines[1:] {
		f := fieldsASCII(line)
		if len(f) <= pidCol {
			continue
		}
		if f[pidCol] != "-" {
			p, err := strconv.Atoi(f[pidCol])
			if err != nil {
				return Top{}, fmt.Errorf("ps: unexpected PID %q", f[pidCol])
			}
			kept = slices.Contains(pids, p)
		}
		if !kept {
			continue
		}
		if n := len(top.Titles); len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		top.Processes = append(top.Processes, f)
	}
	return top, nil
}

// fieldsASCII splits on ASCII white space only, as dockerd does: a
// command may hold other spaces.
func fieldsASCII(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
	})
}
