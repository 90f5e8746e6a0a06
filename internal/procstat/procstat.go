// Package procstat reads /proc/PID/stat, whose second field (the
// command name, in parentheses) may itself hold spaces and parentheses.
package procstat

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// Fields returns the fields of the stat file at path from the third on:
// [0] is the state (R, S, Z, ...), [1] the parent's PID, [19] the start
// time in clock ticks since boot.
func Fields(path string) ([]string, error) {
	b, err := plainfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The fields after the command name start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return nil, fmt.Errorf("%s: unexpected format", path)
	}
	return f, nil
}
