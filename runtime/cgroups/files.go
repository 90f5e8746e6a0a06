package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/internal/plainfile"
)

func firstDir(m map[string]string) string {
	for _, d := range m {
		return d
	}
	return ""
}

func writeFile(path, v string) error {
	if err := plainfile.WriteFile(path, []byte(v), 0); err != nil {
		return fmt.Errorf("cgroups: write %q to %s: %w", v, path, err)
	}
	return nil
}

// writeIfExists writes v to path; a missing file is an error only when the
// value is a requested limit (required), not a reset to the default.
func writeIfExists(path, v string, required bool) error {
	err := writeFile(path, v)
	if err != nil && !required && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// readValue reads a one-value cgroup file, without its newline.
func readValue(path string) (string, error) {
	b, err := plainfile.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cgroups: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func readInt(path string) (int64, error) {
	s, err := readValue(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

func readUint(path string) (uint64, error) {
	s, err := readValue(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroups: %s: %w", path, err)
	}
	return n, nil
}

// readLimit reads a limit file where "max" means none (0).
func readLimit(path string) (uint64, error) {
	s, err := readValue(path)
	if err != nil || s == "max" {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

// readKey reads the value of "key N" in a flat-keyed cgroup file.
func readKey(path, key string) (int64, bool, error) {
	m, err := readFlat(path)
	if err != nil {
		return 0, false, err
	}
	n, ok := m[key]
	return int64(n), ok, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
