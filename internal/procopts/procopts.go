// Package procopts holds docker's rules for --oom-score-adj and the
// json-file log's --log-opt max-size and max-file, shared by the engine
// (which parses what docker run and the API send) and the manifest
// language (which validates and maps a Container's oomScoreAdj and
// logging without touching a host).
package procopts

import (
	"fmt"
	"sort"
	"strconv"

	units "github.com/docker/go-units"
)

// The range of oom_score_adj.
const (
	MinOOMScoreAdj = -1000
	MaxOOMScoreAdj = 1000
)

// CheckOOMScoreAdj checks an oom_score_adj's range, as dockerd does.
func CheckOOMScoreAdj(n int) error {
	if n < MinOOMScoreAdj || n > MaxOOMScoreAdj {
		return fmt.Errorf("invalid value %d for --oom-score-adj: the range is [%d, %d]", n, MinOOMScoreAdj, MaxOOMScoreAdj)
	}
	return nil
}

// The json-file log options the engine honours.
const (
	MaxSize = "max-size"
	MaxFile = "max-file"
)

// CheckLogSize checks a max-size in bytes: it must be positive.
func CheckLogSize(n int64) error {
	if n <= 0 {
		return fmt.Errorf("want a positive size such as 10m")
	}
	return nil
}

// CheckLogFiles checks a max-file: at least one file.
func CheckLogFiles(n int) error {
	if n < 1 {
		return fmt.Errorf("want a whole number of at least 1")
	}
	return nil
}

// LogLimits reads the json-file log's max-size and max-file as dockerd
// does: a size with units (decimal: 1k is 1000 bytes), at least one file,
// and one file when only max-size is given. The json-file driver's other
// options are refused by name.
func LogLimits(opts map[string]string) (size int64, files int, err error) {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch k {
		case MaxSize:
			var perr error
			if size, perr = units.FromHumanSize(v); perr != nil || CheckLogSize(size) != nil {
				return 0, 0, fmt.Errorf("--log-opt max-size=%s: %v", v, CheckLogSize(0))
			}
		case MaxFile:
			var perr error
			if files, perr = strconv.Atoi(v); perr != nil || CheckLogFiles(files) != nil {
				return 0, 0, fmt.Errorf("--log-opt max-file=%s: %v", v, CheckLogFiles(0))
			}
		default:
			return 0, 0, fmt.Errorf("--log-opt %s is not supported: the json-file log takes max-size and max-file only", k)
		}
	}
	if size > 0 && files == 0 {
		files = 1
	}
	return size, files, nil
}

// LogOptions writes a max-size in bytes and a max-file as the --log-opt
// map LogLimits reads (and dockerd's json-file driver too); 0 leaves an
// option out, and nothing set is nil.
func LogOptions(size int64, files int) map[string]string {
	if size == 0 && files == 0 {
		return nil
	}
	opts := map[string]string{}
	if size != 0 {
		opts[MaxSize] = strconv.FormatInt(size, 10)
	}
	if files != 0 {
		opts[MaxFile] = strconv.Itoa(files)
	}
	return opts
}
